package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/sqlite"
)

// TestReplayWithoutEnqueue checks that a store that cannot queue jobs
// refuses to replay, rather than leave a delivery pending with no job to
// send it.
func TestReplayWithoutEnqueue(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	e := b.addEndpoint(t)
	m := b.publish(t)

	var (
		ctx = t.Context()
		s   = sqlite.New(b.db)
	)

	resend, err := messages.NewResend(acme, m.ID, e.ID, "key:3f2a9c1d0e4b")
	require.NoError(t, err)

	_, err = s.Resend(ctx, resend)
	require.ErrorContains(t, err, "cannot enqueue")

	r, err := messages.NewRecovery(acme, e.ID, time.Now().Add(-time.Hour), time.Time{}, "key:3f2a9c1d0e4b")
	require.NoError(t, err)

	_, err = s.CreateRecovery(ctx, r)
	require.ErrorContains(t, err, "cannot enqueue")

	_, err = s.RecoverNext(ctx, r.ID, 10)
	require.ErrorContains(t, err, "cannot enqueue")

	require.Zero(t, b.count(t, "replays"))
	require.Zero(t, b.count(t, "recoveries"))
}

// TestRecoverNextBatch checks that a batch must hold at least one
// delivery: an empty one would never finish the recovery.
func TestRecoverNextBatch(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	e := b.addEndpoint(t)

	r, err := messages.NewRecovery(acme, e.ID, time.Now().Add(-time.Hour), time.Time{}, "key:3f2a9c1d0e4b")
	require.NoError(t, err)

	_, err = b.store.CreateRecovery(t.Context(), r)
	require.NoError(t, err)

	for _, batch := range []int{0, -1} {
		_, err := b.store.RecoverNext(t.Context(), r.ID, batch)
		require.ErrorContains(t, err, "is not positive")
	}

	got, err := b.store.RecoverNext(t.Context(), r.ID, 1)
	require.NoError(t, err)
	require.Equal(t, messages.RecoveryDone, got.Status)
}
