package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/messages"
)

// ListDeliveries returns at most limit of the tenant's deliveries that
// come after before, by message id then endpoint id, newest first, narrowed
// by f, or [subscriptions.ErrTenantNotFound]. The window of f bounds the
// message id, so that an index on the tenant and message id serves the
// filter, the order and the cursor at once.
func (s *Store) ListDeliveries(
	ctx context.Context, tenantID string, f messages.DeliveryFilter, before messages.DeliveryKey, limit int,
) ([]messages.Delivery, error) {
	var w where

	w.add("d.tenant_id = ?", tenantID)

	lower, upper := idRange(messagePrefix, f.Since, f.Until, "")
	if lower != "" {
		w.add("d.message_id >= ?", lower)
	}

	if upper != "" {
		w.add("d.message_id < ?", upper)
	}

	if before != (messages.DeliveryKey{}) {
		w.add("(d.message_id, d.endpoint_id) < (?, ?)", before.MessageID, before.EndpointID)
	}

	if f.Status != "" {
		w.add("d.status = ?", string(f.Status))
	}

	if f.EventType != "" {
		w.add("d.event_type = ?", f.EventType)
	}

	if f.EndpointID != "" {
		w.add("d.endpoint_id = ?", f.EndpointID)
	}

	query := "SELECT " + deliveryColumns + ` FROM deliveries d
		WHERE ` + w.String() + `
		ORDER BY d.message_id DESC, d.endpoint_id DESC LIMIT ` + w.arg(limit)

	rows, err := s.pool.Query(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}

	deliveries, err := pgx.CollectRows(rows, scanDelivery)
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
