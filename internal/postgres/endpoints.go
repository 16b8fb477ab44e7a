package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
)

const endpointColumns = `id, tenant_id, url, description, event_types, headers, disabled,
	disabled_reason, secret, secret_created_at, previous_secrets, created_at, updated_at`

// storedSecret is how a previous secret is kept in the previous_secrets JSON.
type storedSecret struct {
	Key       string    `json:"key"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateEndpoint stores a new endpoint, or returns
// [subscriptions.ErrTenantNotFound] when its tenant does not exist.
func (s *Store) CreateEndpoint(ctx context.Context, e subscriptions.Endpoint) error {
	const query = "INSERT INTO endpoints (" + endpointColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

	_, err := s.pool.Exec(ctx, query, endpointArgs(e)...)
	if isForeignKeyViolation(err) {
		return subscriptions.ErrTenantNotFound
	}

	if err != nil {
		return fmt.Errorf("create endpoint: %w", err)
	}

	return nil
}

// GetEndpoint returns the tenant's endpoint with id, or
// [subscriptions.ErrEndpointNotFound].
func (s *Store) GetEndpoint(ctx context.Context, tenantID, id string) (subscriptions.Endpoint, error) {
	return getEndpoint(ctx, s.pool, tenantID, id, "")
}

// ListEndpoints returns at most limit of the tenant's endpoints whose id
// sorts after the given one, oldest first, or
// [subscriptions.ErrTenantNotFound].
func (s *Store) ListEndpoints(
	ctx context.Context, tenantID, after string, limit int,
) ([]subscriptions.Endpoint, error) {
	const query = "SELECT " + endpointColumns + ` FROM endpoints
		WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`

	rows, err := s.pool.Query(ctx, query, tenantID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}

	endpoints, err := pgx.CollectRows(rows, scanEndpoint)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}

	if len(endpoints) == 0 {
		// An empty page needs telling apart from a missing tenant.
		if _, err := s.GetTenant(ctx, tenantID); err != nil {
			return nil, err
		}
	}

	return endpoints, nil
}

// UpdateEndpoint locks the tenant's endpoint with id, lets fn change it and
// stores the result, all in one transaction. It returns the stored endpoint,
// [subscriptions.ErrEndpointNotFound], or fn's error unchanged.
func (s *Store) UpdateEndpoint(
	ctx context.Context, tenantID, id string, fn func(*subscriptions.Endpoint) error,
) (subscriptions.Endpoint, error) {
	const query = `UPDATE endpoints SET url = $3, description = $4, event_types = $5,
		headers = $6, disabled = $7, disabled_reason = $8, secret = $9,
		secret_created_at = $10, previous_secrets = $11, updated_at = $12
		WHERE id = $1 AND tenant_id = $2`

	var e subscriptions.Endpoint

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		// NO KEY: an update leaves the id alone, so it need not wait for
		// publishes, which hold endpoints against deletion only.
		if e, err = getEndpoint(ctx, tx, tenantID, id, " FOR NO KEY UPDATE"); err != nil {
			return err
		}

		created := e.CreatedAt
		if err := fn(&e); err != nil {
			return err
		}

		e.CreatedAt = created

		// The row is addressed by the arguments, so fn cannot move it.
		args := endpointArgs(e)
		args[0], args[1] = id, tenantID
		args = append(args[:len(args)-2], e.UpdatedAt) // all but created_at

		if _, err := tx.Exec(ctx, query, args...); err != nil {
			return fmt.Errorf("update endpoint: %w", err)
		}

		e.ID, e.TenantID = id, tenantID

		return nil
	})
	if err != nil {
		return subscriptions.Endpoint{}, err
	}

	return e, nil
}

// DeleteEndpoint deletes the tenant's endpoint with id, or returns
// [subscriptions.ErrEndpointNotFound].
func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM endpoints WHERE id = $1 AND tenant_id = $2", id, tenantID)
	if err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}

	if tag.RowsAffected() == 0 {
		return subscriptions.ErrEndpointNotFound
	}

	return nil
}

// querier is what reading an endpoint needs of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func getEndpoint(ctx context.Context, q querier, tenantID, id, suffix string) (subscriptions.Endpoint, error) {
	query := "SELECT " + endpointColumns + " FROM endpoints WHERE id = $1 AND tenant_id = $2" + suffix

	rows, err := q.Query(ctx, query, id, tenantID)
	if err != nil {
		return subscriptions.Endpoint{}, fmt.Errorf("get endpoint: %w", err)
	}

	e, err := pgx.CollectExactlyOneRow(rows, scanEndpoint)
	if errors.Is(err, pgx.ErrNoRows) {
		return subscriptions.Endpoint{}, subscriptions.ErrEndpointNotFound
	}

	if err != nil {
		return subscriptions.Endpoint{}, fmt.Errorf("get endpoint: %w", err)
	}

	return e, nil
}

// endpointArgs returns e's values in the order of endpointColumns.
func endpointArgs(e subscriptions.Endpoint) []any {
	previous := make([]storedSecret, len(e.PreviousSecrets))
	for i, p := range e.PreviousSecrets {
		previous[i] = storedSecret{Key: p.Secret.Encode(), ExpiresAt: p.ExpiresAt}
	}

	return []any{
		e.ID, e.TenantID, e.URL, e.Description, e.EventTypes, e.Headers, e.Disabled,
		e.DisabledReason, e.Secret.Encode(), e.SecretCreatedAt, previous, e.CreatedAt, e.UpdatedAt,
	}
}

func scanEndpoint(row pgx.CollectableRow) (subscriptions.Endpoint, error) {
	return scanEndpointAfter(row)
}

// scanEndpointAfter scans a row of lead columns followed by
// endpointColumns, the lead ones into lead.
func scanEndpointAfter(row pgx.Row, lead ...any) (subscriptions.Endpoint, error) {
	var (
		e        subscriptions.Endpoint
		secret   string
		previous []storedSecret
	)

	dest := make([]any, 0, len(lead)+13)
	dest = append(dest, lead...)
	dest = append(dest, &e.ID, &e.TenantID, &e.URL, &e.Description, &e.EventTypes, &e.Headers,
		&e.Disabled, &e.DisabledReason, &secret, &e.SecretCreatedAt, &previous,
		&e.CreatedAt, &e.UpdatedAt)

	err := row.Scan(dest...)
	if err != nil {
		return subscriptions.Endpoint{}, err //nolint:wrapcheck // wrapped by the caller
	}

	if e.Secret, err = signing.ParseSecret(secret); err != nil {
		return subscriptions.Endpoint{}, fmt.Errorf("endpoint %s secret: %w", e.ID, err)
	}

	for _, p := range previous {
		key, err := signing.ParseSecret(p.Key)
		if err != nil {
			return subscriptions.Endpoint{}, fmt.Errorf("endpoint %s previous secret: %w", e.ID, err)
		}

		e.PreviousSecrets = append(e.PreviousSecrets, subscriptions.PreviousSecret{
			Secret: key, ExpiresAt: p.ExpiresAt.UTC(),
		})
	}

	e.SecretCreatedAt = e.SecretCreatedAt.UTC()
	e.CreatedAt = e.CreatedAt.UTC()
	e.UpdatedAt = e.UpdatedAt.UTC()

	return e, nil
}

// PruneExpiredSecrets drops from every endpoint the previous secrets that
// expired at or before t, and returns how many endpoints it changed.
func (s *Store) PruneExpiredSecrets(ctx context.Context, t time.Time) (int64, error) {
	const query = `
		UPDATE endpoints SET previous_secrets = COALESCE(
			(SELECT jsonb_agg(p ORDER BY n) FROM jsonb_array_elements(previous_secrets)
				WITH ORDINALITY AS s (p, n)
			 WHERE (p->>'expires_at')::timestamptz > $1), '[]')
		WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(previous_secrets) p
			WHERE (p->>'expires_at')::timestamptz <= $1)`

	tag, err := s.pool.Exec(ctx, query, t)
	if err != nil {
		return 0, fmt.Errorf("prune expired secrets: %w", err)
	}

	return tag.RowsAffected(), nil
}

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}

	return strings.Join(parts, ", ")
}
