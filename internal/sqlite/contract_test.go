package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/store/storetest"
)

// TestContract runs the behavioral contract of every store on SQLite.
func TestContract(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T) storetest.Harness {
		t.Helper()

		rec := storetest.NewRecorder()
		s := sqlite.New(openMigrated(t)).WithEnqueue(storetest.Enqueuer[*sql.Tx]{Recorder: rec})

		return rec.Harness(s)
	})
}
