package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/subscriptions"
)

const tenantColumns = "id, name, metadata, created_at, updated_at"

// PutTenant creates t, or updates the name and metadata of the tenant with
// its id. It returns the stored tenant and whether it was created.
func (s *Store) PutTenant(ctx context.Context, t subscriptions.Tenant) (subscriptions.Tenant, bool, error) {
	const query = `
		INSERT INTO tenants (` + tenantColumns + `)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE
		SET name = excluded.name, metadata = excluded.metadata, updated_at = excluded.updated_at
		RETURNING ` + tenantColumns + `, xmax = 0`

	var (
		out     subscriptions.Tenant
		created bool
	)

	err := s.pool.QueryRow(ctx, query, t.ID, t.Name, t.Metadata, t.CreatedAt, t.UpdatedAt).
		Scan(&out.ID, &out.Name, &out.Metadata, &out.CreatedAt, &out.UpdatedAt, &created)
	if err != nil {
		return subscriptions.Tenant{}, false, fmt.Errorf("put tenant: %w", err)
	}

	return utcTenant(out), created, nil
}

// GetTenant returns the tenant with id, or [subscriptions.ErrTenantNotFound].
func (s *Store) GetTenant(ctx context.Context, id string) (subscriptions.Tenant, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE id = $1", id)
	if err != nil {
		return subscriptions.Tenant{}, fmt.Errorf("get tenant: %w", err)
	}

	t, err := pgx.CollectExactlyOneRow(rows, scanTenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return subscriptions.Tenant{}, subscriptions.ErrTenantNotFound
	}

	if err != nil {
		return subscriptions.Tenant{}, fmt.Errorf("get tenant: %w", err)
	}

	return t, nil
}

// ListTenants returns at most limit tenants whose id sorts after the given
// one, in ascending order of id.
func (s *Store) ListTenants(ctx context.Context, after string, limit int) ([]subscriptions.Tenant, error) {
	const query = "SELECT " + tenantColumns + " FROM tenants WHERE id > $1 ORDER BY id LIMIT $2"

	rows, err := s.pool.Query(ctx, query, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}

	tenants, err := pgx.CollectRows(rows, scanTenant)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}

	return tenants, nil
}

// DeleteTenant deletes the tenant with id and all of its endpoints, or
// returns [subscriptions.ErrTenantNotFound].
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM tenants WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("delete tenant: %w", err)
	}

	if tag.RowsAffected() == 0 {
		return subscriptions.ErrTenantNotFound
	}

	return nil
}

func scanTenant(row pgx.CollectableRow) (subscriptions.Tenant, error) {
	var t subscriptions.Tenant
	if err := row.Scan(&t.ID, &t.Name, &t.Metadata, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return subscriptions.Tenant{}, err //nolint:wrapcheck // wrapped by the caller
	}

	return utcTenant(t), nil
}

func utcTenant(t subscriptions.Tenant) subscriptions.Tenant {
	t.CreatedAt = t.CreatedAt.UTC()
	t.UpdatedAt = t.UpdatedAt.UTC()

	return t
}
