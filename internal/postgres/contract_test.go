package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestContract runs the storage contract against PostgreSQL, each test in
// a schema of its own.
func TestContract(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T) storetest.Harness {
		t.Helper()

		db := testdb.New(t)
		rec := storetest.NewRecorder()
		s := postgres.New(db.Pool).WithEnqueue(storetest.Enqueuer[pgx.Tx]{Recorder: rec})

		return rec.Harness(s)
	})
}
