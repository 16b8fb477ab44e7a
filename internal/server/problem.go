package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// problemContentType is the media type of every error answer (RFC 9457).
const problemContentType = "application/problem+json"

// problemType prefixes the stable identifiers of the kinds of problem.
const problemType = "urn:herald:problem:"

// Kinds of problem. Each maps to one HTTP status and one title.
const (
	kindInvalidRequest   = "invalid-request"
	kindInvalidParameter = "invalid-parameter"
	kindValidation       = "validation"
	kindUnauthorized     = "unauthorized"
	kindNotFound         = "not-found"
	kindConflict         = "conflict"
	kindMethodNotAllowed = "method-not-allowed"
	kindTooLarge         = "payload-too-large"
	kindMediaType        = "unsupported-media-type"
	kindUnavailable      = "unavailable"
	kindInternal         = "internal"
)

var kinds = map[string]struct {
	status int
	title  string
}{
	kindInvalidRequest:   {http.StatusBadRequest, "The request is malformed"},
	kindInvalidParameter: {http.StatusBadRequest, "A parameter is invalid"},
	kindValidation:       {http.StatusUnprocessableEntity, "The request breaks a rule"},
	kindUnauthorized:     {http.StatusUnauthorized, "An API key is needed"},
	kindNotFound:         {http.StatusNotFound, "Not found"},
	kindMethodNotAllowed: {http.StatusMethodNotAllowed, "Method not allowed"},
	kindConflict:         {http.StatusConflict, "The request conflicts with what is stored"},
	kindTooLarge:         {http.StatusRequestEntityTooLarge, "The request body is too large"},
	kindMediaType:        {http.StatusUnsupportedMediaType, "The request body must be JSON"},
	kindUnavailable:      {http.StatusServiceUnavailable, "The database does not answer"},
	kindInternal:         {http.StatusInternalServerError, "Internal error"},
}

// apiError is an error the API answers as a problem of its kind.
type apiError struct {
	kind   string
	detail string
	fields []validation.FieldError
	cause  error
}

func (e *apiError) Error() string { return e.kind + ": " + e.detail }

func (e *apiError) Unwrap() error { return e.cause }

var errUnauthorized = &apiError{
	kind:   kindUnauthorized,
	detail: "send a valid API key in the Authorization header, as: Bearer YOUR_KEY",
}

func invalidRequest(field, format string, args ...any) *apiError {
	e := &apiError{kind: kindInvalidRequest, detail: fmt.Sprintf(format, args...)}
	if field != "" {
		e.fields = []validation.FieldError{{Field: field, Detail: e.detail}}
	}

	return e
}

// invalidParam turns a validation error about a path or query parameter
// into a 400 problem.
func invalidParam(err error) error {
	var verr *validation.Error
	if !errors.As(err, &verr) {
		return err
	}

	return &apiError{kind: kindInvalidParameter, detail: verr.Fields[0].Detail, fields: verr.Fields}
}

func unavailable(cause error) *apiError {
	return &apiError{kind: kindUnavailable, detail: "the database does not answer", cause: cause}
}

// handleError answers err as a problem. It is Echo's error handler: every
// error of every route ends here.
func (h *handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}

	p := h.problem(err, c)

	if p.Status >= http.StatusInternalServerError {
		h.logger.ErrorContext(c.Request().Context(), "request failed",
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status_code", p.Status),
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.Any("error", err))
	}

	c.Response().Header().Set(echo.HeaderContentType, problemContentType)
	_ = c.JSON(p.Status, p)
}

// problem maps err to the problem answered for it.
func (h *handler) problem(err error, c echo.Context) Problem {
	var (
		aerr     *apiError
		verr     *validation.Error
		herr     *echo.HTTPError
		tooLarge *messages.TooLargeError
		kind     = kindInternal
		extra    *apiError
	)

	switch {
	case errors.As(err, &aerr):
		kind, extra = aerr.kind, aerr
	case errors.As(err, &verr):
		kind = kindValidation
		extra = &apiError{detail: verr.Fields[0].Detail, fields: verr.Fields}
	case errors.Is(err, subscriptions.ErrTenantNotFound):
		kind, extra = kindNotFound, notFound("tenant", c.Param("tenant_id"))
	case errors.Is(err, subscriptions.ErrEndpointNotFound):
		kind, extra = kindNotFound, notFound("endpoint", c.Param("endpoint_id"))
	case errors.Is(err, messages.ErrNotFound):
		kind, extra = kindNotFound, notFound("message", c.Param("message_id"))
	case errors.Is(err, messages.ErrRecoveryNotFound):
		kind, extra = kindNotFound, notFound("recovery", c.Param("recovery_id"))
	case errors.Is(err, subscriptions.ErrEndpointDisabled):
		kind, extra = kindConflict, disabled(c.Param("endpoint_id"), err)
	case errors.Is(err, messages.ErrConflict):
		kind = kindConflict
		extra = &apiError{detail: "this event_id was published before with another event type or payload"}
	case errors.As(err, &tooLarge):
		kind = kindTooLarge
		extra = &apiError{detail: fmt.Sprintf("the payload must be at most %d bytes", tooLarge.Limit)}
	case errors.As(err, &herr):
		kind, extra = fromEcho(herr)
	}

	k := kinds[kind]
	p := Problem{Type: problemType + kind, Title: k.title, Status: k.status, Detail: k.title}

	if extra != nil {
		p.Detail = extra.detail
		if len(extra.fields) > 0 {
			fields := make([]FieldError, len(extra.fields))
			for i, f := range extra.fields {
				fields[i] = FieldError{Field: f.Field, Detail: f.Detail}
			}

			p.Field, p.Errors = &fields[0].Field, &fields
		}
	}

	return p
}

// notFound words a missing resource, named by its raw path parameter.
func notFound(resource, param string) *apiError {
	return &apiError{detail: fmt.Sprintf("%s %q does not exist", resource, unescape(param))}
}

// disabled words the refusal to send to a disabled endpoint, named by its
// raw path parameter, with why it was disabled when err says.
func disabled(param string, err error) *apiError {
	const fix = `enable it first, with PATCH and {"disabled": false}`

	detail := fmt.Sprintf("endpoint %q is disabled: ", unescape(param))
	if derr, ok := errors.AsType[*subscriptions.DisabledError](err); ok && derr.Reason != "" {
		detail += derr.Reason + "; "
	}

	return &apiError{detail: detail + fix}
}

// unescape returns a raw path parameter as the client meant it.
func unescape(param string) string {
	if id, err := url.PathUnescape(param); err == nil {
		return id
	}

	return param
}

// fromEcho maps the errors that Echo and the generated parameter binding
// raise.
func fromEcho(herr *echo.HTTPError) (string, *apiError) {
	msg := fmt.Sprint(herr.Message)

	switch herr.Code {
	case http.StatusNotFound:
		return kindNotFound, &apiError{detail: "no such route"}
	case http.StatusMethodNotAllowed:
		return kindMethodNotAllowed, &apiError{detail: "the route does not take this method"}
	case http.StatusRequestEntityTooLarge:
		return kindTooLarge, nil
	case http.StatusBadRequest:
		return kindInvalidParameter, paramFromBinding(msg)
	}

	return kindInternal, nil
}

// paramFromBinding reads the parameter name out of the generated binding's
// message, "Invalid format for parameter limit: ...".
func paramFromBinding(msg string) *apiError {
	const prefix = "Invalid format for parameter "

	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok {
		return &apiError{detail: msg}
	}

	name, _, _ := strings.Cut(rest, ":")
	detail := "has the wrong format"

	return &apiError{detail: name + " " + detail, fields: []validation.FieldError{{Field: name, Detail: detail}}}
}
