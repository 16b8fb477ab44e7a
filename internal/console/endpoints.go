package console

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// recoveriesShown is how many of an endpoint's recoveries its page shows.
const recoveriesShown = 20

// recoveryFormTime is how long the recovery form may wait to be sent
// before its default window, which ends when it is sent, grows longer than
// a recovery may span.
const recoveryFormTime = time.Hour

// endpointView is what the endpoint page shows.
type endpointView struct {
	TenantID string
	Endpoint subscriptions.Endpoint
	Health   messages.Health

	// Failed is the address of the endpoint's failed deliveries.
	Failed string

	// Since and Until fill the recovery form: by default since the last
	// success, or since the endpoint was made, until now, and never longer
	// than a recovery may span.
	Since string
	Until string

	// Recoveries are the endpoint's newest recoveries.
	Recoveries []messages.Recovery

	Notice string
	Error  string
}

// showEndpoint shows the endpoint's health and recoveries, and the forms
// that recover its failed deliveries or enable it again.
func (h *handler) showEndpoint(w http.ResponseWriter, r *http.Request, v *visit) {
	view, err := h.loadEndpoint(r.Context(), r)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}

	view.Notice = notices[r.URL.Query().Get("done")]
	h.render(w, r, http.StatusOK, "endpoint", v, view)
}

// recover queues the recovery of the endpoint's failed deliveries of the
// window in the form.
func (h *handler) recover(w http.ResponseWriter, r *http.Request, v *visit) {
	var (
		ctx        = r.Context()
		tenantID   = r.PathValue("tenant")
		endpointID = r.PathValue("endpoint")
		since      = r.PostForm.Get("since")
		until      = r.PostForm.Get("until")
	)

	rec, err := newRecovery(tenantID, endpointID, since, until, v.actor)
	if err == nil {
		rec, err = h.store.CreateRecovery(ctx, rec)
	}

	if err != nil {
		h.refuse(w, r, v, err, "endpoint", func(reason string) (any, error) {
			view, err := h.loadEndpoint(ctx, r)
			view.Since, view.Until, view.Error = since, until, reason

			return view, err
		})

		return
	}

	h.logger.InfoContext(ctx, "console recovery", slog.String("tenant_id", tenantID),
		slog.String("endpoint_id", endpointID), slog.String("recovery_id", rec.ID),
		slog.Int("total", rec.Total), slog.String("actor", v.actor))
	to := endpointURL(rec.TenantID, rec.EndpointID) + "?done=recovering"
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// newRecovery reads the window of the recovery form, in UTC.
func newRecovery(tenantID, endpointID, since, until, actor string) (messages.Recovery, error) {
	var errs validation.Errors

	from, ok := parseLocal(since)
	if !ok {
		errs.Addf("since", "must be a date and time such as 2026-05-01T09:30")
	}

	to, ok := parseLocal(until)
	if !ok {
		errs.Addf("until", "must be a date and time such as 2026-05-01T09:30, or empty for now")
	}

	if err := errs.Err(); err != nil {
		return messages.Recovery{}, err
	}

	return messages.NewRecovery(tenantID, endpointID, from, to, actor)
}

// enable enables a disabled endpoint, then offers to recover what failed
// meanwhile.
func (h *handler) enable(w http.ResponseWriter, r *http.Request, v *visit) {
	var (
		ctx        = r.Context()
		tenantID   = r.PathValue("tenant")
		endpointID = r.PathValue("endpoint")
		patch      = subscriptions.EndpointPatch{Disabled: new(false), DisabledReason: new("")}
	)

	e, err := h.store.UpdateEndpoint(ctx, tenantID, endpointID, patch.Apply)
	if err != nil {
		h.refuse(w, r, v, err, "endpoint", func(reason string) (any, error) {
			view, err := h.loadEndpoint(ctx, r)
			view.Error = reason

			return view, err
		})

		return
	}

	h.logger.InfoContext(ctx, "console enabled endpoint", slog.String("tenant_id", tenantID),
		slog.String("endpoint_id", endpointID), slog.String("actor", v.actor))
	http.Redirect(w, r, endpointURL(e.TenantID, e.ID)+"?done=enabled", http.StatusSeeOther)
}

// loadEndpoint reads what the endpoint page of the request shows.
func (h *handler) loadEndpoint(ctx context.Context, r *http.Request) (endpointView, error) {
	view := endpointView{TenantID: r.PathValue("tenant")}
	endpointID := r.PathValue("endpoint")

	if subscriptions.ValidateTenantID(view.TenantID) != nil ||
		subscriptions.ValidateEndpointID(endpointID) != nil {
		return view, subscriptions.ErrEndpointNotFound
	}

	var err error
	if view.Endpoint, err = h.store.GetEndpoint(ctx, view.TenantID, endpointID); err != nil {
		return view, err
	}

	if view.Health, err = h.store.EndpointHealth(ctx, view.TenantID, endpointID); err != nil {
		return view, err
	}

	view.Recoveries, err = h.store.ListRecoveries(ctx, view.TenantID, endpointID, "",
		recoveriesShown)
	if err != nil {
		return view, err
	}

	view.Since = localTime(defaultSince(view.Endpoint, view.Health, time.Now()))
	view.Failed = tenantURL(view.TenantID) + "?" + url.Values{
		"status":   {string(messages.StatusFailed)},
		"endpoint": {endpointID},
	}.Encode()

	return view, nil
}

// defaultSince returns where the recovery form's window starts unless the
// visitor says otherwise: at the endpoint's last success, or when it was
// made, but late enough that the form sent within recoveryFormTime of now
// is accepted.
func defaultSince(e subscriptions.Endpoint, health messages.Health, now time.Time) time.Time {
	since := health.LastSuccessAt
	if since.IsZero() {
		since = e.CreatedAt
	}

	earliest := now.Add(recoveryFormTime - messages.MaxRecoveryWindow)
	if since.Before(earliest) {
		return earliest
	}

	return since
}
