package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// envelopeBytes is what a publish body may hold beside its payload.
const envelopeBytes = 16 << 10

// maxReplays is how many of its newest replays a message shows.
const maxReplays = 100

// PublishMessage stores a message and queues its deliveries.
func (h *handler) PublishMessage(c echo.Context, tenantID TenantID) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	var in MessageInput
	if err := h.decodeBodyUpTo(c, &in, true, int64(h.maxPayloadBytes+envelopeBytes)); err != nil {
		return err
	}

	m, err := messages.New(tenantID, messages.Params{
		EventType: in.EventType,
		EventID:   deref(in.EventId),
		Payload:   in.Payload,
	}, h.maxPayloadBytes)
	if err != nil {
		return err
	}

	published, err := h.publish(c.Request().Context(), m)
	if err != nil {
		return err
	}

	status := http.StatusAccepted
	if published.Replayed {
		status = http.StatusOK
	}

	return c.JSON(status, publishedBody(published))
}

// publish publishes m with the messages of the other requests publishing
// at the same time, in one transaction. One that needs a row another
// transaction holds (its tenant or an endpoint being deleted) is then
// published alone, waiting for that row as long as its request may, so
// that it holds up no other request.
func (h *handler) publish(ctx context.Context, m messages.Message) (messages.Published, error) {
	res, err := h.publisher.Do(ctx, m)
	if err != nil {
		return messages.Published{}, err //nolint:wrapcheck // the request's own context error
	}

	if errors.Is(res.Err, messages.ErrLocked) {
		return h.store.PublishMessage(ctx, m) //nolint:wrapcheck // the store's errors are the API's
	}

	return res.Published, res.Err
}

// publishBatch publishes the messages of concurrent requests in one
// transaction. When that transaction fails, each message is published
// alone, so that one that cannot be stored does not fail the others; once
// one of a tenant finds a row locked, the tenant's others are not tried,
// and each goes alone from its own request.
func (h *handler) publishBatch(ctx context.Context, ms []messages.Message) []messages.PublishResult {
	results, err := h.store.PublishMessages(ctx, ms)
	if err == nil {
		return results
	}

	if len(ms) == 1 {
		return []messages.PublishResult{{Err: err}}
	}

	results = make([]messages.PublishResult, len(ms))
	lockedTenants := make(map[string]bool)

	for i, m := range ms {
		if lockedTenants[m.TenantID] {
			results[i].Err = messages.ErrLocked
			continue
		}

		alone, err := h.store.PublishMessages(ctx, []messages.Message{m})

		switch {
		case errors.Is(err, messages.ErrLocked):
			lockedTenants[m.TenantID] = true
			results[i].Err = err
		case err != nil:
			results[i].Err = err
		default:
			results[i] = alone[0]
		}
	}

	return results
}

// GetMessage answers a message with its delivery state at each endpoint.
func (h *handler) GetMessage(c echo.Context, tenantID TenantID, messageID MessageID) error {
	if err := checkMessageIDs(tenantID, messageID); err != nil {
		return err
	}

	m, deliveries, err := h.store.GetMessage(c.Request().Context(), tenantID, messageID)
	if err != nil {
		return err
	}

	replays, err := h.store.ListReplays(c.Request().Context(), tenantID, messageID, maxReplays)
	if err != nil {
		return err
	}

	body := Message{
		Id:         m.ID,
		TenantId:   m.TenantID,
		EventType:  m.EventType,
		EventId:    optional(m.EventID),
		Payload:    m.Payload,
		CreatedAt:  m.CreatedAt,
		Deliveries: make([]Delivery, len(deliveries)),
		Replays:    make([]Replay, len(replays)),
	}

	for i, d := range deliveries {
		d.MessageID, d.EventType = m.ID, m.EventType
		body.Deliveries[i] = deliveryBody(d)
	}

	for i, r := range replays {
		body.Replays[i] = replayBody(r)
	}

	return c.JSON(http.StatusOK, body)
}

// ListMessageAttempts answers one page of a message's attempts, newest
// first.
func (h *handler) ListMessageAttempts(
	c echo.Context, tenantID TenantID, messageID MessageID, params ListMessageAttemptsParams,
) error {
	if err := checkMessageIDs(tenantID, messageID); err != nil {
		return err
	}

	p, err := parsePage(params.Limit, params.Cursor)
	if err != nil {
		return err
	}

	attempts, err := h.store.ListMessageAttempts(c.Request().Context(), tenantID, messageID, p.after, p.limit+1)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, attemptList(attempts, p.limit))
}

// ListEndpointAttempts answers one page of the attempts sent to an
// endpoint, newest first.
func (h *handler) ListEndpointAttempts(
	c echo.Context, tenantID TenantID, endpointID EndpointID, params ListEndpointAttemptsParams,
) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	p, err := parsePage(params.Limit, params.Cursor)
	if err != nil {
		return err
	}

	f, err := attemptFilter(params)
	if err != nil {
		return err
	}

	attempts, err := h.store.ListEndpointAttempts(c.Request().Context(), tenantID, endpointID,
		f, p.after, p.limit+1)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, attemptList(attempts, p.limit))
}

// attemptFilter checks the filters of a listing of an endpoint's attempts.
func attemptFilter(params ListEndpointAttemptsParams) (messages.AttemptFilter, error) {
	succeeded, err := statusFilter(params.Status)
	if err != nil {
		return messages.AttemptFilter{}, err
	}

	eventType, err := eventTypeFilter(params.EventType)
	if err != nil {
		return messages.AttemptFilter{}, err
	}

	since, until, err := window(params.Since, params.Until)
	if err != nil {
		return messages.AttemptFilter{}, err
	}

	return messages.AttemptFilter{
		Succeeded: succeeded,
		EventType: eventType,
		Since:     since,
		Until:     until,
	}, nil
}

func statusFilter(status *ListEndpointAttemptsParamsStatus) (*bool, error) {
	if status == nil {
		return nil, nil //nolint:nilnil // no filter
	}

	var succeeded bool

	switch *status {
	case ListEndpointAttemptsParamsStatusSucceeded:
		succeeded = true
	case ListEndpointAttemptsParamsStatusFailed:
	default:
		return nil, invalidParam(validation.Fail("status", "must be succeeded or failed"))
	}

	return &succeeded, nil
}

func checkMessageIDs(tenantID, messageID string) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	return invalidParam(messages.ValidateID(messageID))
}

func publishedBody(p messages.Published) PublishedMessage {
	return PublishedMessage{
		Id:            p.Message.ID,
		TenantId:      p.Message.TenantID,
		EventType:     p.Message.EventType,
		EventId:       optional(p.Message.EventID),
		CreatedAt:     p.Message.CreatedAt,
		EndpointCount: p.Endpoints,
	}
}

func deliveryBody(d messages.Delivery) Delivery {
	body := Delivery{
		MessageId:  d.MessageID,
		EndpointId: d.EndpointID,
		EventType:  d.EventType,
		Status:     DeliveryStatus(d.Status),
		Attempts:   d.Attempts,
		Round:      d.Round,
		Reason:     optional(d.Reason),
		UpdatedAt:  d.UpdatedAt,
	}
	if !d.NextAttemptAt.IsZero() {
		body.NextAttemptAt = &d.NextAttemptAt
	}

	return body
}

func attemptList(attempts []messages.Attempt, limit int) AttemptList {
	attempts, next := nextCursor(attempts, limit, func(a messages.Attempt) string { return a.ID })

	body := AttemptList{Data: make([]Attempt, len(attempts)), NextCursor: next}
	for i, a := range attempts {
		body.Data[i] = attemptBody(a)
	}

	return body
}

func attemptBody(a messages.Attempt) Attempt {
	body := Attempt{
		Id:           a.ID,
		MessageId:    a.MessageID,
		EndpointId:   a.EndpointID,
		Attempt:      a.Number,
		StartedAt:    a.StartedAt,
		DurationMs:   float64(a.Duration.Microseconds()) / 1000,
		Succeeded:    a.Succeeded,
		Error:        optional(a.Error),
		ResponseBody: optional(string(bytes.ToValidUTF8(a.ResponseBody, []byte("\uFFFD")))),
	}
	if a.StatusCode != 0 {
		body.StatusCode = &a.StatusCode
	}

	if !a.NextAttemptAt.IsZero() {
		body.NextAttemptAt = &a.NextAttemptAt
	}

	return body
}

// optional returns a pointer to s, or nil when s is empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}

	return &s
}
