package bench

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/testdb"
)

func TestVacuum(t *testing.T) {
	t.Parallel()

	db := testdb.Empty(t)
	_, err := db.Pool.Exec(t.Context(),
		"CREATE TABLE churn (n int); INSERT INTO churn SELECT generate_series(1, 100); DELETE FROM churn")
	require.NoError(t, err)

	require.NoError(t, vacuum(t.Context(), db.URL))

	var vacuumed, analyzed bool
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL
		FROM pg_stat_user_tables WHERE relid = 'churn'::regclass`).Scan(&vacuumed, &analyzed))
	require.True(t, vacuumed)
	require.True(t, analyzed)

	require.Error(t, vacuum(t.Context(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"))
}
