package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// endpointColumns are the columns of an endpoint in the order
// scanEndpoint reads them, from the table aliased e.
const endpointColumns = `e.id, e.tenant_id, e.url, e.description, e.event_types, e.headers,
	e.disabled, e.disabled_reason, e.secret, e.secret_created_at, e.previous_secrets,
	e.created_at, e.updated_at`

// storedSecret is how a previous secret is kept in the previous_secrets
// JSON, its expiry in Unix microseconds like every other time.
type storedSecret struct {
	Key       string `json:"key"`
	ExpiresAt int64  `json:"expires_at"`
}

// CreateEndpoint stores a new endpoint, or returns
// [subscriptions.ErrTenantNotFound] when its tenant does not exist.
func (s *Store) CreateEndpoint(ctx context.Context, e subscriptions.Endpoint) error {
	const query = `INSERT INTO endpoints (id, tenant_id, url, description, event_types, headers,
			disabled, disabled_reason, secret, secret_created_at, previous_secrets, created_at,
			updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	_, err := s.db.ExecContext(ctx, query,
		e.ID, e.TenantID, e.URL, e.Description, jsonValue{e.EventTypes}, jsonValue{e.Headers},
		e.Disabled, e.DisabledReason, e.Secret.Encode(), micros(e.SecretCreatedAt),
		previousSecrets(e), micros(e.CreatedAt), micros(e.UpdatedAt))
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
	return getEndpoint(ctx, s.db, tenantID, id)
}

// ListEndpoints returns at most limit of the tenant's endpoints whose id
// sorts after the given one, oldest first, or
// [subscriptions.ErrTenantNotFound].
func (s *Store) ListEndpoints(
	ctx context.Context, tenantID, after string, limit int,
) ([]subscriptions.Endpoint, error) {
	const query = "SELECT " + endpointColumns + ` FROM endpoints e
		WHERE e.tenant_id = ? AND e.id > ? ORDER BY e.id LIMIT ?`

	if err := checkLimit(limit); err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}

	endpoints, err := queryAll(ctx, s.db, scanEndpoint, query, tenantID, after, limit)
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

// UpdateEndpoint reads the tenant's endpoint with id, lets fn change it and
// stores the result, all in one transaction, which holds the write lock
// throughout. It returns the stored endpoint,
// [subscriptions.ErrEndpointNotFound], or fn's error unchanged.
func (s *Store) UpdateEndpoint(
	ctx context.Context, tenantID, id string, fn func(*subscriptions.Endpoint) error,
) (subscriptions.Endpoint, error) {
	const query = `UPDATE endpoints SET url = ?, description = ?, event_types = ?, headers = ?,
		disabled = ?, disabled_reason = ?, secret = ?, secret_created_at = ?,
		previous_secrets = ?, updated_at = ?
		WHERE id = ? AND tenant_id = ?`

	var e subscriptions.Endpoint

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = getEndpoint(ctx, tx, tenantID, id); err != nil {
			return err
		}

		created := e.CreatedAt
		if err := fn(&e); err != nil {
			return err
		}

		// The row is addressed by the arguments, so fn can move it to no
		// other tenant or id, nor change when it was created.
		e.ID, e.TenantID, e.CreatedAt = id, tenantID, created

		_, err = tx.ExecContext(ctx, query,
			e.URL, e.Description, jsonValue{e.EventTypes}, jsonValue{e.Headers}, e.Disabled,
			e.DisabledReason, e.Secret.Encode(), micros(e.SecretCreatedAt), previousSecrets(e),
			micros(e.UpdatedAt), id, tenantID)
		if err != nil {
			return fmt.Errorf("update endpoint: %w", err)
		}

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
	res, err := s.db.ExecContext(ctx, "DELETE FROM endpoints WHERE id = ? AND tenant_id = ?", id, tenantID)
	if err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}

	return changedRow(res, subscriptions.ErrEndpointNotFound)
}

// PruneExpiredSecrets drops from every endpoint the previous secrets that
// expired at or before t, and returns how many endpoints it changed.
func (s *Store) PruneExpiredSecrets(ctx context.Context, t time.Time) (int64, error) {
	const query = `
		UPDATE endpoints SET previous_secrets = (
			SELECT json_group_array(json(p.value) ORDER BY p.key)
			FROM json_each(endpoints.previous_secrets) AS p
			WHERE p.value ->> 'expires_at' > ?1)
		WHERE EXISTS (SELECT 1 FROM json_each(endpoints.previous_secrets) AS p
			WHERE p.value ->> 'expires_at' <= ?1)`

	res, err := s.db.ExecContext(ctx, query, micros(t))
	if err != nil {
		return 0, fmt.Errorf("prune expired secrets: %w", err)
	}

	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune expired secrets: %w", err)
	}

	return n, nil
}

func getEndpoint(ctx context.Context, q querier, tenantID, id string) (subscriptions.Endpoint, error) {
	const query = "SELECT " + endpointColumns + " FROM endpoints e WHERE e.id = ? AND e.tenant_id = ?"

	e, err := scanEndpoint(q.QueryRowContext(ctx, query, id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return subscriptions.Endpoint{}, subscriptions.ErrEndpointNotFound
	}

	if err != nil {
		return subscriptions.Endpoint{}, fmt.Errorf("get endpoint: %w", err)
	}

	return e, nil
}

// previousSecrets returns e's previous secrets as the previous_secrets
// column stores them.
func previousSecrets(e subscriptions.Endpoint) jsonValue {
	stored := make([]storedSecret, len(e.PreviousSecrets))
	for i, p := range e.PreviousSecrets {
		stored[i] = storedSecret{Key: p.Secret.Encode(), ExpiresAt: micros(p.ExpiresAt)}
	}

	return jsonValue{stored}
}

func scanEndpoint(row scanner) (subscriptions.Endpoint, error) {
	return scanEndpointAfter(row)
}

// scanEndpointAfter scans a row of lead columns followed by
// endpointColumns, the lead ones into lead.
func scanEndpointAfter(row scanner, lead ...any) (subscriptions.Endpoint, error) {
	var (
		e        subscriptions.Endpoint
		secret   string
		previous []storedSecret
	)

	dest := make([]any, 0, len(lead)+13)
	dest = append(dest, lead...)
	dest = append(dest, &e.ID, &e.TenantID, &e.URL, &e.Description, jsonColumn{&e.EventTypes},
		jsonColumn{&e.Headers}, &e.Disabled, &e.DisabledReason, &secret,
		timeColumn{&e.SecretCreatedAt}, jsonColumn{&previous},
		timeColumn{&e.CreatedAt}, timeColumn{&e.UpdatedAt})

	err := row.Scan(dest...)
	if err != nil {
		return subscriptions.Endpoint{}, err
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
			Secret: key, ExpiresAt: time.UnixMicro(p.ExpiresAt).UTC(),
		})
	}

	return e, nil
}
