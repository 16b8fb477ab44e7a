package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// ListDeliveries answers one page of a tenant's deliveries, newest message
// first.
func (h *handler) ListDeliveries(
	c echo.Context, tenantID TenantID, params ListDeliveriesParams,
) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	p, err := parsePage(params.Limit, params.Cursor)
	if err != nil {
		return err
	}

	before, err := deliveryKey(p.after)
	if err != nil {
		return err
	}

	f, err := deliveryFilter(params)
	if err != nil {
		return err
	}

	deliveries, err := h.store.ListDeliveries(c.Request().Context(), tenantID, f, before, p.limit+1)
	if err != nil {
		return err
	}

	deliveries, next := nextCursor(deliveries, p.limit,
		func(d messages.Delivery) string { return d.Key().String() })

	body := DeliveryList{Data: make([]Delivery, len(deliveries)), NextCursor: next}
	for i, d := range deliveries {
		body.Data[i] = deliveryBody(d)
	}

	return c.JSON(http.StatusOK, body)
}

// deliveryFilter checks the filters of a listing of deliveries.
func deliveryFilter(params ListDeliveriesParams) (messages.DeliveryFilter, error) {
	var f messages.DeliveryFilter

	if params.Status != nil {
		switch s := messages.Status(*params.Status); s {
		case messages.StatusPending, messages.StatusSucceeded, messages.StatusFailed:
			f.Status = s
		default:
			return f, invalidParam(
				validation.Fail("status", "must be pending, succeeded or failed"))
		}
	}

	if params.EndpointId != nil {
		if err := subscriptions.ValidateEndpointID(*params.EndpointId); err != nil {
			return f, invalidParam(err)
		}

		f.EndpointID = *params.EndpointId
	}

	var err error

	if f.EventType, err = eventTypeFilter(params.EventType); err != nil {
		return f, err
	}

	f.Since, f.Until, err = window(params.Since, params.Until)

	return f, err
}

// deliveryKey reads the position a cursor holds, the text of a
// [messages.DeliveryKey]; an empty position starts at the newest delivery.
func deliveryKey(after string) (messages.DeliveryKey, error) {
	if after == "" {
		return messages.DeliveryKey{}, nil
	}

	key, ok := messages.ParseDeliveryKey(after)
	if !ok {
		return key, invalidParam(validation.Fail("cursor", "is not a cursor this API returned"))
	}

	return key, nil
}

// eventTypeFilter checks an event_type query parameter; absent, it
// filters nothing.
func eventTypeFilter(eventType *EventType) (string, error) {
	if eventType == nil {
		return "", nil
	}

	if err := subscriptions.ValidateEventType(*eventType); err != nil {
		return "", invalidParam(err)
	}

	return *eventType, nil
}

// window checks the since and until query parameters of a time window;
// either may be absent, and since must come before until.
func window(since, until *time.Time) (time.Time, time.Time, error) {
	var from, to time.Time

	if since != nil {
		from = *since
	}

	if until != nil {
		to = *until
	}

	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, invalidParam(validation.Fail("since", "must be before until"))
	}

	return from, to, nil
}
