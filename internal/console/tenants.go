package console

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// Page sizes of the console's listings.
const (
	tenantsPerPage    = 50
	endpointsPerPage  = 50
	deliveriesPerPage = 50
)

// tenantsView is what the tenants page shows.
type tenantsView struct {
	Tenants []subscriptions.Tenant

	// Next is the address of the next page; empty on the last.
	Next string
}

// showTenants lists the tenants by id, a page at a time.
func (h *handler) showTenants(w http.ResponseWriter, r *http.Request, v *visit) {
	after := r.URL.Query().Get("after")
	if after != "" && subscriptions.ValidateTenantID(after) != nil {
		h.renderError(w, r, v, http.StatusBadRequest,
			"That link to a page of tenants is not valid.")
		return
	}

	tenants, err := h.store.ListTenants(r.Context(), after, tenantsPerPage+1)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}

	var view tenantsView
	if view.Tenants = tenants; len(tenants) > tenantsPerPage {
		view.Tenants = tenants[:tenantsPerPage]
		view.Next = tenantsPath + "?after=" + url.QueryEscape(view.Tenants[tenantsPerPage-1].ID)
	}

	h.render(w, r, http.StatusOK, "tenants", v, view)
}

// endpointRow is one endpoint with its health.
type endpointRow struct {
	Endpoint subscriptions.Endpoint
	Health   messages.Health
}

// deliveryFilter is the filter form of the tenant page, as submitted.
type deliveryFilter struct {
	Status     string
	EventType  string
	EndpointID string
	Before     string
}

// Choices of the status filter beside the delivery states.
const (
	statusAny     = "any"
	defaultStatus = string(messages.StatusFailed)
)

// tenantView is what the tenant page shows.
type tenantView struct {
	Tenant    subscriptions.Tenant
	Endpoints []endpointRow

	// MoreEndpoints is the address of the page showing the next endpoints;
	// empty when all are shown.
	MoreEndpoints string

	Filter   deliveryFilter
	Statuses []string

	// Deliveries are the page of deliveries the filter selects, newest
	// first. Older is the address of the next page, empty on the last;
	// Newest is the address of the first page, empty when this is it.
	Deliveries []messages.Delivery
	Caption    string
	Older      string
	Newest     string

	// Error says why the filter was refused; the page has no Notice.
	Notice string
	Error  string
}

// showTenant shows the tenant's endpoints with their health and its
// deliveries, the failed ones unless the filter says otherwise.
func (h *handler) showTenant(w http.ResponseWriter, r *http.Request, v *visit) {
	tenantID := r.PathValue("tenant")
	if subscriptions.ValidateTenantID(tenantID) != nil {
		h.fail(w, r, v, subscriptions.ErrTenantNotFound)
		return
	}

	tenant, err := h.store.GetTenant(r.Context(), tenantID)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}

	view := tenantView{Tenant: tenant, Statuses: statusChoices()}

	if err := h.readEndpoints(r, &view); err != nil {
		h.fail(w, r, v, err)
		return
	}

	status := http.StatusOK
	if err := h.readDeliveries(r, &view); err != nil {
		status, view.Error = h.explain(r, err)
	}

	h.render(w, r, status, "tenant", v, view)
}

// captions name the deliveries each status choice lists.
var captions = map[string]string{
	string(messages.StatusFailed):    "Failed deliveries, newest first",
	string(messages.StatusPending):   "Pending deliveries, newest first",
	string(messages.StatusSucceeded): "Succeeded deliveries, newest first",
	statusAny:                        "All deliveries, newest first",
}

// statusChoices lists the choices of the status filter.
func statusChoices() []string {
	return []string{
		string(messages.StatusFailed), string(messages.StatusPending),
		string(messages.StatusSucceeded), statusAny,
	}
}

// readEndpoints reads a page of the tenant's endpoints and the health of
// each.
func (h *handler) readEndpoints(r *http.Request, view *tenantView) error {
	after := r.URL.Query().Get("endpoints_after")
	if after != "" && subscriptions.ValidateEndpointID(after) != nil {
		after = ""
	}

	ctx := r.Context()

	endpoints, err := h.store.ListEndpoints(ctx, view.Tenant.ID, after, endpointsPerPage+1)
	if err != nil {
		return err
	}

	if len(endpoints) > endpointsPerPage {
		endpoints = endpoints[:endpointsPerPage]
		view.MoreEndpoints = tenantURL(view.Tenant.ID) + "?endpoints_after=" +
			url.QueryEscape(endpoints[endpointsPerPage-1].ID)
	}

	for _, e := range endpoints {
		health, err := h.store.EndpointHealth(ctx, view.Tenant.ID, e.ID)
		if err != nil {
			return err
		}

		view.Endpoints = append(view.Endpoints, endpointRow{Endpoint: e, Health: health})
	}

	return nil
}

// readDeliveries reads the page of deliveries the request's filter selects.
func (h *handler) readDeliveries(r *http.Request, view *tenantView) error {
	q := r.URL.Query()
	view.Filter = deliveryFilter{
		Status:     strings.TrimSpace(q.Get("status")),
		EventType:  strings.TrimSpace(q.Get("event_type")),
		EndpointID: strings.TrimSpace(q.Get("endpoint")),
		Before:     q.Get("before"),
	}

	f, before, err := view.Filter.parse()
	if err != nil {
		return err
	}

	deliveries, err := h.store.ListDeliveries(r.Context(), view.Tenant.ID, f, before,
		deliveriesPerPage+1)
	if err != nil {
		return err
	}

	view.Caption = captions[view.Filter.Status]
	base := tenantURL(view.Tenant.ID)
	if view.Deliveries = deliveries; len(deliveries) > deliveriesPerPage {
		view.Deliveries = deliveries[:deliveriesPerPage]
		last := view.Deliveries[deliveriesPerPage-1]
		view.Older = base + "?" + view.Filter.query(deliveryCursor(last))
	}

	if view.Filter.Before != "" {
		view.Newest = base + "?" + view.Filter.query("")
	}

	return nil
}

// parse checks the filter and returns it as the store takes it.
func (f *deliveryFilter) parse() (messages.DeliveryFilter, messages.DeliveryKey, error) {
	var (
		out  messages.DeliveryFilter
		errs validation.Errors
	)

	switch f.Status {
	case "":
		f.Status = defaultStatus
		out.Status = messages.StatusFailed
	case statusAny:
	case string(messages.StatusFailed), string(messages.StatusPending),
		string(messages.StatusSucceeded):
		out.Status = messages.Status(f.Status)
	default:
		errs.Addf("status", "must be failed, pending, succeeded or any")
	}

	out.EventType = f.EventType
	if f.EventType != "" && subscriptions.ValidateEventType(f.EventType) != nil {
		errs.Addf("event_type", "must be an event type such as invoice.paid")
	}

	out.EndpointID = f.EndpointID
	if f.EndpointID != "" && subscriptions.ValidateEndpointID(f.EndpointID) != nil {
		errs.Addf("endpoint", "must be one of the tenant's endpoints")
	}

	before, ok := parseDeliveryCursor(f.Before)
	if !ok {
		errs.Addf("older", "link is not one this console made")
	}

	return out, before, errs.Err()
}

// query returns the filter as a query string, with the cursor before.
func (f *deliveryFilter) query(before string) string {
	q := url.Values{"status": {f.Status}}
	if f.EventType != "" {
		q.Set("event_type", f.EventType)
	}

	if f.EndpointID != "" {
		q.Set("endpoint", f.EndpointID)
	}

	if before != "" {
		q.Set("before", before)
	}

	return q.Encode()
}

// deliveryCursor returns the cursor of the page of deliveries after d.
func deliveryCursor(d messages.Delivery) string {
	return base64.RawURLEncoding.EncodeToString([]byte(d.Key().String()))
}

// parseDeliveryCursor reads a cursor of [deliveryCursor]; an empty one is
// the newest page.
func parseDeliveryCursor(cursor string) (messages.DeliveryKey, bool) {
	if cursor == "" {
		return messages.DeliveryKey{}, true
	}

	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return messages.DeliveryKey{}, false
	}

	return messages.ParseDeliveryKey(string(raw))
}
