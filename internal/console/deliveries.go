package console

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// How many attempts and replays the delivery page shows, and how many of
// the message's attempts it reads to find them.
const (
	attemptsShown   = 100
	attemptsPerRead = 250
	attemptsRead    = 20 * attemptsPerRead
	replaysShown    = 50
)

// notices are the messages a page shows after a form succeeded, by the
// value of its "done" query parameter.
var notices = map[string]string{
	"resent":     "Resend queued: the delivery starts a new round with the same webhook-id.",
	"recovering": "Recovery queued: its failed deliveries are sent again in the background.",
	"enabled": "Endpoint enabled. Deliveries that failed while it was disabled can be " +
		"recovered below.",
}

// deliveryView is what the delivery page shows.
type deliveryView struct {
	TenantID string
	Message  messages.Message
	Endpoint subscriptions.Endpoint

	// Delivery is the message's delivery to the endpoint; Sent is false,
	// and Delivery empty, when the message never went there.
	Delivery messages.Delivery
	Sent     bool

	// Attempts are the delivery's newest attempts; MoreAttempts is set
	// when it has more than those shown.
	Attempts     []messages.Attempt
	MoreAttempts bool

	// Replays are the message's newest replays, to every endpoint.
	Replays []messages.Replay

	Notice string
	Error  string
}

// showDelivery shows the message's delivery to the endpoint, every attempt
// of it and the replays of the message.
func (h *handler) showDelivery(w http.ResponseWriter, r *http.Request, v *visit) {
	view, err := h.loadDelivery(r.Context(), r)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}

	view.Notice = notices[r.URL.Query().Get("done")]
	h.render(w, r, http.StatusOK, "delivery", v, view)
}

// resend sends the message to the endpoint again, whatever the state of
// its delivery.
func (h *handler) resend(w http.ResponseWriter, r *http.Request, v *visit) {
	var (
		ctx        = r.Context()
		tenantID   = r.PathValue("tenant")
		messageID  = r.PathValue("message")
		endpointID = r.PathValue("endpoint")
	)

	var d messages.Delivery

	replay, err := messages.NewResend(tenantID, messageID, endpointID, v.actor)
	if err == nil {
		d, err = h.store.Resend(ctx, replay)
	}

	if err != nil {
		h.refuse(w, r, v, err, "delivery", func(reason string) (any, error) {
			view, err := h.loadDelivery(ctx, r)
			view.Error = reason

			return view, err
		})

		return
	}

	h.logger.InfoContext(ctx, "console resend", slog.String("tenant_id", tenantID),
		slog.String("message_id", messageID), slog.String("endpoint_id", endpointID),
		slog.String("actor", v.actor))
	to := deliveryURL(d.TenantID, d.MessageID, d.EndpointID) + "?done=resent"
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// refuse answers a form that failed with err with the page name, as load
// reads it with the reason shown, or with the error page when the page
// itself cannot be read.
func (h *handler) refuse(
	w http.ResponseWriter, r *http.Request, v *visit, err error, name string,
	load func(reason string) (any, error),
) {
	status, reason := h.explain(r, err)

	page, err := load(reason)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}

	h.render(w, r, status, name, v, page)
}

// loadDelivery reads what the delivery page of the request shows.
func (h *handler) loadDelivery(ctx context.Context, r *http.Request) (deliveryView, error) {
	view := deliveryView{TenantID: r.PathValue("tenant")}
	messageID, endpointID := r.PathValue("message"), r.PathValue("endpoint")

	switch {
	case subscriptions.ValidateTenantID(view.TenantID) != nil:
		return view, subscriptions.ErrTenantNotFound
	case messages.ValidateID(messageID) != nil:
		return view, messages.ErrNotFound
	case subscriptions.ValidateEndpointID(endpointID) != nil:
		return view, subscriptions.ErrEndpointNotFound
	}

	m, deliveries, err := h.store.GetMessage(ctx, view.TenantID, messageID)
	if err != nil {
		return view, err
	}

	view.Message = m

	if view.Endpoint, err = h.store.GetEndpoint(ctx, view.TenantID, endpointID); err != nil {
		return view, err
	}

	for _, d := range deliveries {
		if d.EndpointID == endpointID {
			view.Delivery, view.Sent = d, true
		}
	}

	if err := h.readAttempts(ctx, &view); err != nil {
		return view, err
	}

	view.Replays, err = h.store.ListReplays(ctx, view.TenantID, messageID, replaysShown)

	return view, err
}

// readAttempts reads the newest attempts of the delivery. The store lists
// a message's attempts to every endpoint, so it reads a bounded number of
// them and keeps those to the delivery's endpoint.
func (h *handler) readAttempts(ctx context.Context, view *deliveryView) error {
	before := ""

	for read := 0; read < attemptsRead; read += attemptsPerRead {
		page, err := h.store.ListMessageAttempts(ctx, view.TenantID, view.Message.ID, before,
			attemptsPerRead)
		if err != nil {
			return err
		}

		for _, a := range page {
			if a.EndpointID != view.Endpoint.ID {
				continue
			}

			if len(view.Attempts) == attemptsShown {
				view.MoreAttempts = true
				return nil
			}

			view.Attempts = append(view.Attempts, a)
		}

		if len(page) < attemptsPerRead {
			return nil
		}

		before = page[len(page)-1].ID
	}

	view.MoreAttempts = true

	return nil
}
