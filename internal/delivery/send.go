package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/retry"
	"github.com/heraldhq/herald/internal/signing"
)

const (
	// maxResponseBody is how much of an answer's body an attempt keeps.
	maxResponseBody = 4 << 10

	// maxDrain is how much more of a body is read, so that the connection
	// can be reused; a longer body closes it instead.
	maxDrain = 64 << 10
)

// result is what one HTTP try came to.
type result struct {
	started    time.Time
	duration   time.Duration
	status     int
	body       []byte
	retryAfter time.Duration
	err        error
}

// healthy reports whether the try says the endpoint is up, for its
// breaker: any answer below 500 but 429 Too Many Requests.
func (r result) healthy() bool {
	return r.err == nil && r.status < http.StatusInternalServerError && r.status != http.StatusTooManyRequests
}

// attempt turns the result into the attempt to record.
func (r result) attempt(t messages.Target) (messages.Attempt, error) {
	id, err := messages.NewAttemptID(r.started)
	if err != nil {
		return messages.Attempt{}, err
	}

	a := messages.Attempt{
		ID:           id,
		MessageID:    t.Delivery.MessageID,
		EndpointID:   t.Endpoint.ID,
		Number:       t.Delivery.Attempts + 1,
		Round:        t.Delivery.Round,
		StartedAt:    r.started,
		Duration:     r.duration,
		StatusCode:   r.status,
		ResponseBody: r.body,
		Succeeded:    r.err == nil && r.status >= 200 && r.status < 300,
	}

	switch {
	case r.err != nil:
		a.Error = r.err.Error()
	case !a.Succeeded:
		a.Error = fmt.Sprintf("the endpoint answered %d %s", r.status, http.StatusText(r.status))
	}

	return a, nil
}

// newClient returns the HTTP client of every webhook: no redirects, no
// proxy, connections kept alive and reused, and every address checked by
// the egress policy when dialed.
func newClient(cfg Config) *resty.Client {
	transport := &http.Transport{
		DialContext:           cfg.Egress.Dialer(cfg.Timeout).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ExpectContinueTimeout: time.Second,
	}

	return resty.New().
		SetTransport(transport).
		SetTimeout(cfg.Timeout).
		SetRedirectPolicy(resty.RedirectPolicyFunc(func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		})).
		SetLogger(quietLogger{}).
		SetHeader("User-Agent", cfg.UserAgent).
		SetHeader("Content-Type", "application/json")
}

// send makes one signed POST of the payload to the endpoint.
func (w *Worker) send(ctx context.Context, t messages.Target) result {
	res := result{started: time.Now().UTC().Truncate(time.Microsecond)}
	secrets := t.Endpoint.SigningSecrets(res.started)

	req := w.client.R().
		SetContext(ctx).
		SetDoNotParseResponse(true).
		SetHeaders(t.Endpoint.Headers).
		SetHeader("webhook-id", t.Delivery.MessageID).
		SetHeader("webhook-timestamp", strconv.FormatInt(res.started.Unix(), 10)).
		SetHeader("webhook-signature", signing.Sign(t.Delivery.MessageID, res.started, t.Payload, secrets...)).
		SetBody(t.Payload)

	resp, err := req.Post(t.Endpoint.URL)
	if err != nil {
		res.duration = time.Since(res.started)
		res.err = describe(err, w.cfg.Timeout)

		return res
	}

	body := resp.RawBody()
	defer body.Close()

	res.status = resp.StatusCode()
	res.body, res.err = readBody(body)
	res.duration = time.Since(res.started)

	if res.status == http.StatusTooManyRequests || res.status == http.StatusServiceUnavailable {
		res.retryAfter, _ = retry.RetryAfter(resp.Header().Get("Retry-After"), time.Now())
	}

	return res
}

// readBody keeps the first bytes of a body and drains a little more so the
// connection can be reused.
func readBody(body io.Reader) ([]byte, error) {
	head, err := io.ReadAll(io.LimitReader(body, maxResponseBody))
	if err != nil {
		return head, fmt.Errorf("read response: %w", err)
	}

	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))

	return head, nil
}

// describe words a transport error for the attempt log.
func describe(err error, timeout time.Duration) error {
	var netErr net.Error

	switch {
	case errors.Is(err, egress.ErrRefused):
		return unwrapURL(err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("no answer within %s", timeout)
	}

	return unwrapURL(err)
}

// unwrapURL drops the method and URL that net/http puts before an error:
// the attempt already belongs to its endpoint.
func unwrapURL(err error) error {
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		return urlErr.Err
	}

	return err
}

// quietLogger keeps resty from writing to stderr: Herald logs what matters
// itself, and never a URL, header or body.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}
