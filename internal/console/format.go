package console

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// excerptBytes bounds how much of a response body a page shows.
const excerptBytes = 1024

// funcs are the functions the templates call.
var funcs = template.FuncMap{
	"when":        when,
	"iso":         iso,
	"took":        took,
	"excerpt":     excerpt,
	"tenantURL":   tenantURL,
	"endpointURL": endpointURL,
	"deliveryURL": deliveryURL,
}

// when shows t in UTC to the second, or "never" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}

	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// iso returns t for a datetime attribute.
func iso(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// took shows a duration in milliseconds, or seconds from 10 s on.
func took(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}

	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// excerpt returns the start of body as text, with invalid UTF-8 replaced
// and an ellipsis when it was cut. The template escapes it.
func excerpt(body []byte) string {
	cut := len(body) > excerptBytes
	if cut {
		body = body[:excerptBytes]

		// Drop the bytes of a character cut in two.
		for range utf8.UTFMax - 1 {
			if r, _ := utf8.DecodeLastRune(body); r != utf8.RuneError {
				break
			}

			body = body[:len(body)-1]
		}
	}

	s := strings.ToValidUTF8(string(body), "\uFFFD")
	if cut {
		s += "…"
	}

	return s
}

// tenantURL is the address of the tenant's page.
func tenantURL(tenantID string) string {
	return tenantsPath + "/" + url.PathEscape(tenantID)
}

// endpointURL is the address of the endpoint's page.
func endpointURL(tenantID, endpointID string) string {
	return tenantURL(tenantID) + "/endpoints/" + url.PathEscape(endpointID)
}

// deliveryURL is the address of the page of the message's delivery to the
// endpoint.
func deliveryURL(tenantID, messageID, endpointID string) string {
	return tenantURL(tenantID) + "/messages/" + url.PathEscape(messageID) +
		"/endpoints/" + url.PathEscape(endpointID)
}

// Layouts of the datetime-local inputs, with and without seconds.
const (
	localSeconds = "2006-01-02T15:04:05"
	localMinutes = "2006-01-02T15:04"
)

// localTime returns t in UTC as a datetime-local input value.
func localTime(t time.Time) string {
	return t.UTC().Format(localSeconds)
}

// parseLocal reads the value of a datetime-local input as UTC: the zero
// time when it is empty, and false when it is not a time.
func parseLocal(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}

	for _, layout := range []string{localSeconds, localMinutes} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}

	return time.Time{}, false
}
