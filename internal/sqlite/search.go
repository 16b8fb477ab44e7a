package sqlite

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/messages"
)

// ListDeliveries returns at most limit of the tenant's deliveries narrowed
// by f, by message id, newest first, then by endpoint id, newest first,
// from the first that comes after before in that order; a zero before
// starts at the newest. It returns [subscriptions.ErrTenantNotFound] when
// there is no such tenant.
func (s *Store) ListDeliveries(
	ctx context.Context, tenantID string, f messages.DeliveryFilter, before messages.DeliveryKey, limit int,
) ([]messages.Delivery, error) {
	if err := checkLimit(limit); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}

	query, args := deliveriesQuery(tenantID, f, before)

	deliveries, err := queryAll(ctx, s.db, scanDelivery, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}

	if len(deliveries) == 0 {
		// An empty page needs telling apart from a missing tenant.
		if _, err := s.GetTenant(ctx, tenantID); err != nil {
			return nil, err
		}
	}

	return deliveries, nil
}

// deliveriesQuery returns the query of [Store.ListDeliveries] and its
// arguments, but for the page size, its last. The window on the message's
// creation time is a range of message ids.
func deliveriesQuery(
	tenantID string, f messages.DeliveryFilter, before messages.DeliveryKey,
) (string, []any) {
	var w where

	w.add("d.tenant_id = ?", tenantID)

	if f.Status != "" {
		w.add("d.status = ?", string(f.Status))
	}

	if f.EventType != "" {
		w.add("d.event_type = ?", f.EventType)
	}

	if f.EndpointID != "" {
		w.add("d.endpoint_id = ?", f.EndpointID)
	}

	if !f.Since.IsZero() {
		w.add("d.message_id >= ?", messages.IDAt(messagePrefix, f.Since))
	}

	if !f.Until.IsZero() {
		w.add("d.message_id < ?", messages.IDAt(messagePrefix, f.Until))
	}

	if before.MessageID != "" {
		w.add("(d.message_id, d.endpoint_id) < (?, ?)", before.MessageID, before.EndpointID)
	}

	query := "SELECT " + deliveryColumns + " FROM " + deliveriesIndexedBy(f) + " WHERE " +
		w.String() + " ORDER BY d.message_id DESC, d.endpoint_id DESC LIMIT ?"

	return query, w.args
}

// deliveriesIndexedBy returns the table of a search of the deliveries
// narrowed by f. A search by status alone reads the index made for it:
// without statistics, SQLite would rather read all the tenant's deliveries
// in the window and filter them, as soon as the window has two ends.
func deliveriesIndexedBy(f messages.DeliveryFilter) string {
	if f.Status != "" && f.EndpointID == "" {
		return "deliveries d INDEXED BY deliveries_tenant_id_status_message_id_idx"
	}

	return "deliveries d"
}
