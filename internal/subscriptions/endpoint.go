package subscriptions

import (
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	"go.jetify.com/typeid"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/validation"
)

// Limits on an endpoint's fields.
const (
	maxURLLen            = 2048
	maxDescriptionLen    = 1024
	maxDisabledReasonLen = 512
)

// endpointIDPrefix starts every endpoint id.
const endpointIDPrefix = "ep"

// Endpoint is a URL of a tenant that receives the webhooks whose event type
// its filter matches.
type Endpoint struct {
	ID          string
	TenantID    string
	URL         string
	Description string

	// EventTypes is the filter: exact names, prefixes ending in ".*", or
	// "*". Empty means every event type.
	EventTypes []string

	// Headers are sent with every webhook to this endpoint.
	Headers map[string]string

	// Disabled endpoints receive nothing. DisabledReason says why and is
	// empty while the endpoint is enabled.
	Disabled       bool
	DisabledReason string

	// Secret signs every webhook. SecretCreatedAt is when it became the
	// current secret. PreviousSecrets still sign until they expire.
	Secret          signing.Secret
	SecretCreatedAt time.Time
	PreviousSecrets []PreviousSecret

	CreatedAt time.Time
	UpdatedAt time.Time
}

// EndpointParams are the fields a producer sets when it creates an endpoint.
// An empty Secret asks Herald to generate one.
type EndpointParams struct {
	URL            string
	Description    string
	EventTypes     []string
	Headers        map[string]string
	Disabled       bool
	DisabledReason string
	Secret         string
}

// EndpointPatch holds the fields of an update; nil fields stay unchanged.
type EndpointPatch struct {
	URL            *string
	Description    *string
	EventTypes     *[]string
	Headers        *map[string]string
	Disabled       *bool
	DisabledReason *string
}

// NewEndpoint returns a new endpoint of the tenant with a fresh id and, unless
// params supplies one, a fresh signing secret. It returns a
// [*validation.Error] naming each invalid field.
func NewEndpoint(tenantID string, params EndpointParams) (Endpoint, error) {
	e := Endpoint{
		TenantID:       tenantID,
		URL:            params.URL,
		Description:    params.Description,
		EventTypes:     params.EventTypes,
		Headers:        maps.Clone(params.Headers),
		Disabled:       params.Disabled,
		DisabledReason: params.DisabledReason,
	}

	var (
		errs   validation.Errors
		secret signing.Secret
		err    error
	)

	e.check(&errs)

	if params.Secret != "" {
		if secret, err = signing.ParseSecret(params.Secret); err != nil {
			errs.Addf("secret", "%s", secretRule)
		}
	}

	if err := errs.Err(); err != nil {
		return Endpoint{}, err
	}

	if secret == nil {
		if secret, err = signing.NewSecret(); err != nil {
			return Endpoint{}, fmt.Errorf("new secret: %w", err)
		}
	}

	id, err := typeid.WithPrefix(endpointIDPrefix)
	if err != nil {
		return Endpoint{}, fmt.Errorf("new endpoint id: %w", err)
	}

	t := now()
	e.ID = id.String()
	e.Secret = secret
	e.SecretCreatedAt = t
	e.CreatedAt = t
	e.UpdatedAt = t
	e.normalize()

	return e, nil
}

// Apply changes e by the fields present in p, and returns a
// [*validation.Error] naming each invalid field of the result. On error e is
// left in an unspecified state and must be discarded.
func (p EndpointPatch) Apply(e *Endpoint) error {
	setIf(&e.URL, p.URL)
	setIf(&e.Description, p.Description)
	setIf(&e.EventTypes, p.EventTypes)
	if p.Headers != nil {
		e.Headers = maps.Clone(*p.Headers)
	}

	setIf(&e.Disabled, p.Disabled)
	setIf(&e.DisabledReason, p.DisabledReason)

	var errs validation.Errors
	e.check(&errs)

	if err := errs.Err(); err != nil {
		return err
	}

	e.UpdatedAt = now()
	e.normalize()

	return nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// ValidateEndpointID reports whether id has the form of an endpoint id.
func ValidateEndpointID(id string) error {
	tid, err := typeid.FromString(id)
	if err != nil || tid.Prefix() != endpointIDPrefix {
		return validation.Fail("endpoint_id", "must be an endpoint id such as ep_01jbq6q6ffe5x9qf2a8n1c3m4z")
	}

	return nil
}

// check records every rule that e breaks.
func (e *Endpoint) check(errs *validation.Errors) {
	checkURL(errs, e.URL)

	checkText(errs, "description", e.Description, maxDescriptionLen)
	checkText(errs, "disabled_reason", e.DisabledReason, maxDisabledReasonLen)

	checkEventTypeFilter(errs, e.EventTypes)
	checkHeaders(errs, e.Headers)
}

// normalize gives a valid endpoint its canonical form: no duplicate event
// types, non-nil collections, and no reason while enabled.
func (e *Endpoint) normalize() {
	e.EventTypes = dedupe(e.EventTypes)
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}

	if !e.Disabled {
		e.DisabledReason = ""
	}
}

func dedupe(items []string) []string {
	out := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))

	for _, item := range items {
		if !seen[item] {
			seen[item] = true
			out = append(out, item)
		}
	}

	return out
}

func checkURL(errs *validation.Errors, raw string) {
	switch {
	case raw == "":
		errs.Addf("url", "is required")
		return
	case len(raw) > maxURLLen:
		errs.Addf("url", "must be at most %d characters", maxURLLen)
		return
	}

	u, err := url.Parse(raw)
	if err != nil {
		errs.Addf("url", "is not a valid URL")
		return
	}

	scheme := strings.ToLower(u.Scheme)

	switch {
	case scheme != "http" && scheme != "https":
		errs.Addf("url", "must be an absolute http or https URL")
	case u.Hostname() == "":
		errs.Addf("url", "must name a host")
	case u.User != nil:
		errs.Addf("url", "must not carry credentials; send them in headers instead")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		errs.Addf("url", "must not have a fragment")
	}
}
