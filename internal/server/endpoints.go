package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// CreateEndpoint registers an endpoint for a tenant.
func (h *handler) CreateEndpoint(c echo.Context, tenantID TenantID) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	var in EndpointInput
	if err := h.decodeBody(c, &in, true); err != nil {
		return err
	}

	e, err := subscriptions.NewEndpoint(tenantID, subscriptions.EndpointParams{
		URL:            in.Url,
		Description:    deref(in.Description),
		EventTypes:     deref(in.EventTypes),
		Headers:        deref(in.Headers),
		Disabled:       deref(in.Disabled),
		DisabledReason: deref(in.DisabledReason),
		Secret:         deref(in.Secret),
	})
	if err != nil {
		return err
	}

	if err := h.checkDestination(e.URL); err != nil {
		return err
	}

	if err := h.store.CreateEndpoint(c.Request().Context(), e); err != nil {
		return err
	}

	return c.JSON(http.StatusCreated, endpointBody(e))
}

// ListEndpoints answers one page of a tenant's endpoints, oldest first.
func (h *handler) ListEndpoints(c echo.Context, tenantID TenantID, params ListEndpointsParams) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	p, err := parsePage(params.Limit, params.Cursor)
	if err != nil {
		return err
	}

	endpoints, err := h.store.ListEndpoints(c.Request().Context(), tenantID, p.after, p.limit+1)
	if err != nil {
		return err
	}

	endpoints, next := nextCursor(endpoints, p.limit, func(e subscriptions.Endpoint) string { return e.ID })

	body := EndpointList{Data: make([]Endpoint, len(endpoints)), NextCursor: next}
	for i, e := range endpoints {
		body.Data[i] = endpointBody(e)
	}

	return c.JSON(http.StatusOK, body)
}

// GetEndpoint answers one endpoint.
func (h *handler) GetEndpoint(c echo.Context, tenantID TenantID, endpointID EndpointID) error {
	e, err := h.endpoint(c, tenantID, endpointID)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, endpointBody(e))
}

// UpdateEndpoint changes the fields present in the body.
func (h *handler) UpdateEndpoint(c echo.Context, tenantID TenantID, endpointID EndpointID) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	var in EndpointPatch
	if err := h.decodeBody(c, &in, true); err != nil {
		return err
	}

	patch := subscriptions.EndpointPatch{
		URL:            in.Url,
		Description:    in.Description,
		EventTypes:     in.EventTypes,
		Disabled:       in.Disabled,
		DisabledReason: in.DisabledReason,
	}
	if in.Headers != nil {
		headers := map[string]string(*in.Headers)
		patch.Headers = &headers
	}

	e, err := h.store.UpdateEndpoint(c.Request().Context(), tenantID, endpointID,
		func(e *subscriptions.Endpoint) error {
			if err := patch.Apply(e); err != nil {
				return err //nolint:wrapcheck // a validation error
			}

			return h.checkDestination(e.URL)
		})
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, endpointBody(e))
}

// DeleteEndpoint deletes an endpoint.
func (h *handler) DeleteEndpoint(c echo.Context, tenantID TenantID, endpointID EndpointID) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	if err := h.store.DeleteEndpoint(c.Request().Context(), tenantID, endpointID); err != nil {
		return err
	}

	return c.NoContent(http.StatusNoContent)
}

// GetEndpointSecret answers the endpoint's current signing secret.
func (h *handler) GetEndpointSecret(c echo.Context, tenantID TenantID, endpointID EndpointID) error {
	e, err := h.endpoint(c, tenantID, endpointID)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, secretBody(e))
}

// RotateEndpointSecret makes a new current secret; the old one keeps
// signing for [subscriptions.RotationGrace].
func (h *handler) RotateEndpointSecret(c echo.Context, tenantID TenantID, endpointID EndpointID) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	var in SecretRotation
	if err := h.decodeBody(c, &in, false); err != nil {
		return err
	}

	next, err := nextSecret(in.Key)
	if err != nil {
		return err
	}

	e, err := h.store.UpdateEndpoint(c.Request().Context(), tenantID, endpointID,
		func(e *subscriptions.Endpoint) error {
			e.RotateSecret(next)
			return nil
		})
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, secretBody(e))
}

// checkDestination refuses a URL whose host is a literal address, or
// localhost, that the egress policy would never dial. Names are checked
// when dialed, since what they resolve to can change.
func (h *handler) checkDestination(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return validation.Fail("url", "is not a valid URL")
	}

	if err := h.egress.CheckURLHost(u.Hostname()); err != nil {
		detail := strings.TrimPrefix(err.Error(), egress.ErrRefused.Error()+": ")
		return validation.Fail("url", "is not reachable: %s", detail)
	}

	return nil
}

// nextSecret parses the secret a rotation supplies, or makes one.
func nextSecret(key *string) (signing.Secret, error) {
	if key != nil {
		return subscriptions.ParseSecret("key", *key) //nolint:wrapcheck // a validation error
	}

	secret, err := signing.NewSecret()
	if err != nil {
		return nil, fmt.Errorf("new secret: %w", err)
	}

	return secret, nil
}

// endpoint loads the endpoint the path names.
func (h *handler) endpoint(c echo.Context, tenantID, endpointID string) (subscriptions.Endpoint, error) {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return subscriptions.Endpoint{}, err
	}

	return h.store.GetEndpoint(c.Request().Context(), tenantID, endpointID) //nolint:wrapcheck // mapped by handleError
}

func checkIDs(tenantID, endpointID string) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	return invalidParam(subscriptions.ValidateEndpointID(endpointID))
}

func endpointBody(e subscriptions.Endpoint) Endpoint {
	body := Endpoint{
		Id:          e.ID,
		TenantId:    e.TenantID,
		Url:         e.URL,
		Description: e.Description,
		EventTypes:  e.EventTypes,
		Headers:     e.Headers,
		Disabled:    e.Disabled,
		CreatedAt:   e.CreatedAt,
		UpdatedAt:   e.UpdatedAt,
	}
	if e.Disabled && e.DisabledReason != "" {
		body.DisabledReason = &e.DisabledReason
	}

	return body
}

func secretBody(e subscriptions.Endpoint) EndpointSecret {
	body := EndpointSecret{Key: e.Secret.Encode(), CreatedAt: e.SecretCreatedAt}
	if expiry, ok := e.PreviousExpiry(time.Now()); ok {
		body.PreviousExpiresAt = &expiry
	}

	return body
}
