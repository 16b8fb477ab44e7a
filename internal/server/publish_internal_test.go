package server

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestPublishBatchFallsBack publishes a batch whose transaction fails for
// one message (its id is taken): each message is then published alone, so
// the others are stored and only that one fails.
func TestPublishBatchFallsBack(t *testing.T) {
	t.Parallel()

	enqueue := storetest.EnqueueFunc[pgx.Tx](func(context.Context, pgx.Tx, []messages.Ref) error { return nil })
	st := postgres.New(testdb.New(t).Pool).WithEnqueue(enqueue)
	h := newHandler(Config{Store: st})

	tenant, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{})
	require.NoError(t, err)

	_, _, err = st.PutTenant(t.Context(), tenant)
	require.NoError(t, err)

	newMessage := func(payload string) messages.Message {
		m, err := messages.New("acme", messages.Params{EventType: "invoice.paid", Payload: []byte(payload)}, 0)
		require.NoError(t, err)

		return m
	}

	stored := newMessage(`{"n": 0}`)
	_, err = st.PublishMessage(t.Context(), stored)
	require.NoError(t, err)

	clash := newMessage(`{"n": 2}`)
	clash.ID = stored.ID

	batch := []messages.Message{newMessage(`{"n": 1}`), clash, newMessage(`{"n": 3}`)}

	results := h.publishBatch(t.Context(), batch)
	require.Len(t, results, len(batch))
	require.Error(t, results[1].Err)

	for _, i := range []int{0, 2} {
		require.NoError(t, results[i].Err)
		require.Equal(t, messages.Published{Message: batch[i]}, results[i].Published)

		_, _, err := st.GetMessage(t.Context(), "acme", batch[i].ID)
		require.NoError(t, err)
	}
}
