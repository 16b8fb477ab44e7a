package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/store/storetest"
)

// TestPublishEnqueueInTransaction checks that the enqueue function runs in
// the publishing transaction, which it must use, as the database has no
// other connection: it sees the deliveries there, and what it writes is
// rolled back with them when it fails.
func TestPublishEnqueueInTransaction(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	b.addEndpoint(t)
	b.addEndpoint(t)

	errQueue := errors.New("queue is down")
	s := sqlite.New(b.db).WithEnqueue(storetest.EnqueueFunc[*sql.Tx](func(ctx context.Context, tx *sql.Tx, refs []messages.Ref) error {
		var n int
		err := tx.QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE message_id = ?", refs[0].MessageID).Scan(&n)
		require.NoError(t, err)
		require.Len(t, refs, n)
		require.Equal(t, 2, n)

		_, err = tx.ExecContext(ctx, "CREATE TABLE jobs (id INTEGER)")
		require.NoError(t, err)

		return errQueue
	}))

	m := newMessage(t, "invoice.paid", "evt_1", `{}`)
	_, err := s.PublishMessage(t.Context(), m)
	require.ErrorIs(t, err, errQueue)

	_, _, err = s.GetMessage(t.Context(), acme, m.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)
	require.Zero(t, b.count(t, "deliveries"))

	_, err = b.db.ExecContext(t.Context(), "SELECT id FROM jobs")
	require.Error(t, err, "the enqueue function's writes are rolled back too")
}

func TestPublishWithoutEnqueue(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)

	_, err := sqlite.New(b.db).PublishMessage(t.Context(), newMessage(t, "a.b", "", `{}`))
	require.Error(t, err)
	require.Zero(t, b.count(t, "messages"))
}
