package subscriptions

import (
	"maps"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/heraldhq/herald/internal/validation"
)

const (
	maxHeaders        = 20
	maxHeaderValueLen = 4096
)

// reservedHeaders are set by Herald or by the HTTP transport, or apply to
// one connection only, so an endpoint may not set them. Keys are lower case.
var reservedHeaders = map[string]bool{
	"connection":          true,
	"content-length":      true,
	"content-type":        true,
	"host":                true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"proxy-connection":    true,
	"te":                  true,
	"trailer":             true,
	"transfer-encoding":   true,
	"upgrade":             true,
}

func checkHeaders(errs *validation.Errors, headers map[string]string) {
	if len(headers) > maxHeaders {
		errs.Addf("headers", "must have at most %d headers", maxHeaders)
		return
	}

	seen := make(map[string]string, len(headers))

	for _, name := range slices.Sorted(maps.Keys(headers)) {
		field := "headers." + name
		lower := strings.ToLower(name)

		switch {
		case !httpguts.ValidHeaderFieldName(name):
			errs.Addf(field, "is not a valid header name")
		case reservedHeaders[lower]:
			errs.Addf(field, "is set by Herald or the transport and cannot be overridden")
		case strings.HasPrefix(lower, "webhook-"):
			errs.Addf(field, "webhook-* headers are Herald's own signature headers")
		case seen[lower] != "":
			errs.Addf(field, "repeats header %s in another case", seen[lower])
		case len(headers[name]) > maxHeaderValueLen:
			errs.Addf(field, "must be at most %d bytes", maxHeaderValueLen)
		case !httpguts.ValidHeaderFieldValue(headers[name]):
			errs.Addf(field, "must not contain control characters such as line breaks")
		}

		seen[lower] = name
	}
}
