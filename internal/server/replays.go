package server

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// ResendMessage queues the message to the endpoint once more, in a new
// round of its delivery.
func (h *handler) ResendMessage(
	c echo.Context, tenantID TenantID, messageID MessageID, endpointID EndpointID,
) error {
	if err := checkMessageIDs(tenantID, messageID); err != nil {
		return err
	}

	if err := subscriptions.ValidateEndpointID(endpointID); err != nil {
		return invalidParam(err)
	}

	// The route takes no body; an empty object says the same.
	var none struct{}
	if err := h.decodeBody(c, &none, false); err != nil {
		return err
	}

	r, err := messages.NewResend(tenantID, messageID, endpointID, actor(c))
	if err != nil {
		return err
	}

	d, err := h.store.Resend(c.Request().Context(), r)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusAccepted, deliveryBody(d))
}

// recoveryInput is the body of a recovery request. The times are read as
// strings so that a malformed one is refused by name.
type recoveryInput struct {
	Since *string `json:"since"`
	Until *string `json:"until"`
}

// RecoverEndpoint starts the recovery of the endpoint's failed deliveries
// in a time window; a background job queues them.
func (h *handler) RecoverEndpoint(c echo.Context, tenantID TenantID, endpointID EndpointID) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	var in recoveryInput
	if err := h.decodeBody(c, &in, true); err != nil {
		return err
	}

	var errs validation.Errors

	since := parseTime(&errs, "since", in.Since)
	until := parseTime(&errs, "until", in.Until)

	if err := errs.Err(); err != nil {
		return err
	}

	r, err := messages.NewRecovery(tenantID, endpointID, since, until, actor(c))
	if err != nil {
		return err
	}

	r, err = h.store.CreateRecovery(c.Request().Context(), r)
	if err != nil {
		return err
	}

	c.Response().Header().Set(echo.HeaderLocation, recoveryPath(r))

	return c.JSON(http.StatusAccepted, recoveryBody(r))
}

// ListRecoveries answers one page of an endpoint's recoveries, newest
// first.
func (h *handler) ListRecoveries(
	c echo.Context, tenantID TenantID, endpointID EndpointID, params ListRecoveriesParams,
) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	p, err := parsePage(params.Limit, params.Cursor)
	if err != nil {
		return err
	}

	recoveries, err := h.store.ListRecoveries(c.Request().Context(), tenantID, endpointID,
		p.after, p.limit+1)
	if err != nil {
		return err
	}

	recoveries, next := nextCursor(recoveries, p.limit,
		func(r messages.Recovery) string { return r.ID })

	body := RecoveryList{Data: make([]Recovery, len(recoveries)), NextCursor: next}
	for i, r := range recoveries {
		body.Data[i] = recoveryBody(r)
	}

	return c.JSON(http.StatusOK, body)
}

// GetRecovery answers a recovery and its progress.
func (h *handler) GetRecovery(
	c echo.Context, tenantID TenantID, endpointID EndpointID, recoveryID RecoveryID,
) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	if err := messages.ValidateRecoveryID(recoveryID); err != nil {
		return invalidParam(err)
	}

	r, err := h.store.GetRecovery(c.Request().Context(), tenantID, endpointID, recoveryID)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, recoveryBody(r))
}

// parseTime reads an RFC 3339 date-time of the body, recording in errs
// when it is malformed. An absent time is the zero time.
func parseTime(errs *validation.Errors, field string, s *string) time.Time {
	if s == nil {
		return time.Time{}
	}

	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		errs.Addf(field, "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z")
	}

	return t
}

// recoveryPath is where a recovery's progress is read.
func recoveryPath(r messages.Recovery) string {
	return "/v1/tenants/" + url.PathEscape(r.TenantID) + "/endpoints/" + r.EndpointID +
		"/recoveries/" + r.ID
}

func recoveryBody(r messages.Recovery) Recovery {
	return Recovery{
		Id:         r.ID,
		EndpointId: r.EndpointID,
		Since:      r.Since,
		Until:      r.Until,
		Status:     RecoveryStatus(r.Status),
		Total:      r.Total,
		Queued:     r.Queued,
		JobId:      r.JobID,
		Actor:      r.Actor,
		Reason:     optional(r.Reason),
		CreatedAt:  r.CreatedAt,
		UpdatedAt:  r.UpdatedAt,
	}
}

func replayBody(r messages.Replay) Replay {
	return Replay{
		Id:         r.ID,
		EndpointId: r.EndpointID,
		Kind:       ReplayKind(r.Kind),
		RecoveryId: optional(r.RecoveryID),
		Actor:      r.Actor,
		CreatedAt:  r.CreatedAt,
	}
}
