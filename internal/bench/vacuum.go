package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// vacuum runs VACUUM (ANALYZE) on the tables of the current schema of the
// PostgreSQL database at url, Herald's and River's, so that each run
// starts on tables in the same health whatever ran before it in the same
// database. Autovacuum would see to it between runs, but it may be off, as
// it is on the development machine, or not come in time.
func vacuum(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	const query = `SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
		WHERE schemaname = current_schema() ORDER BY 1`

	rows, err := conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}

	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}

	if len(tables) == 0 {
		return nil
	}

	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}

	return nil
}
