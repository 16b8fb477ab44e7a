package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/subscriptions"
)

const tenantColumns = "id, name, metadata, created_at, updated_at"

// PutTenant creates t, or updates the name and metadata of the tenant with
// its id. It returns the stored tenant and whether it was created.
func (s *Store) PutTenant(ctx context.Context, t subscriptions.Tenant) (subscriptions.Tenant, bool, error) {
	const (
		exists = "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?)"
		upsert = "INSERT INTO tenants (" + tenantColumns + `) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE
			SET name = excluded.name, metadata = excluded.metadata, updated_at = excluded.updated_at
			RETURNING ` + tenantColumns
	)

	var (
		out   subscriptions.Tenant
		found bool
	)

	// The transaction holds the write lock from its start, so the tenant
	// cannot appear between the two statements.
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, exists, t.ID).Scan(&found); err != nil {
			return fmt.Errorf("put tenant: %w", err)
		}

		row := tx.QueryRowContext(ctx, upsert,
			t.ID, t.Name, jsonValue{t.Metadata}, micros(t.CreatedAt), micros(t.UpdatedAt))

		var err error
		if out, err = scanTenant(row); err != nil {
			return fmt.Errorf("put tenant: %w", err)
		}

		return nil
	})
	if err != nil {
		return subscriptions.Tenant{}, false, err
	}

	return out, !found, nil
}

// GetTenant returns the tenant with id, or [subscriptions.ErrTenantNotFound].
func (s *Store) GetTenant(ctx context.Context, id string) (subscriptions.Tenant, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE id = ?", id)

	t, err := scanTenant(row)
	if errors.Is(err, sql.ErrNoRows) {
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
	const query = "SELECT " + tenantColumns + " FROM tenants WHERE id > ? ORDER BY id LIMIT ?"

	if err := checkLimit(limit); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}

	tenants, err := queryAll(ctx, s.db, scanTenant, query, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}

	return tenants, nil
}

// DeleteTenant deletes the tenant with id and all of its endpoints, or
// returns [subscriptions.ErrTenantNotFound].
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM tenants WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete tenant: %w", err)
	}

	return changedRow(res, subscriptions.ErrTenantNotFound)
}

func scanTenant(row scanner) (subscriptions.Tenant, error) {
	var t subscriptions.Tenant

	err := row.Scan(&t.ID, &t.Name, jsonColumn{&t.Metadata},
		timeColumn{&t.CreatedAt}, timeColumn{&t.UpdatedAt})
	if err != nil {
		return subscriptions.Tenant{}, err
	}

	return t, nil
}
