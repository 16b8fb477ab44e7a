package worker_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/worker"
)

func TestPruneSecretsRunsOnStart(t *testing.T) {
	t.Parallel()

	db := testdb.New(t)
	store := postgres.New(db.Pool)

	tenant, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{})
	require.NoError(t, err)
	_, _, err = store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)

	e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{URL: "https://example.com/hook"})
	require.NoError(t, err)

	expired, kept := mustSecret(t), mustSecret(t)
	e.PreviousSecrets = []subscriptions.PreviousSecret{
		{Secret: expired, ExpiresAt: time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)},
		{Secret: kept, ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)},
	}
	require.NoError(t, store.CreateEndpoint(t.Context(), e))

	client, err := worker.New(riverpgxv5.New(db.Pool), worker.Config{
		Store:  store,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(ctx))
	})

	require.Eventually(t, func() bool {
		got, err := store.GetEndpoint(t.Context(), "acme", e.ID)
		require.NoError(t, err)

		return len(got.PreviousSecrets) == 1
	}, 10*time.Second, 20*time.Millisecond, "the expired secret was never pruned")

	got, err := store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, kept, got.PreviousSecrets[0].Secret)
}

func mustSecret(t *testing.T) signing.Secret {
	t.Helper()

	s, err := signing.NewSecret()
	require.NoError(t, err)

	return s
}
