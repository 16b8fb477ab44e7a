package cli_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/cli"
	"github.com/heraldhq/herald/internal/schema"
	"github.com/heraldhq/herald/internal/testdb"
)

// saved is what a restart must keep of a tenant and one of its endpoints.
type saved struct {
	tenant   client.Tenant
	endpoint client.Endpoint
	secret   client.EndpointSecret
}

// saved reads the tenant, the endpoint and its signing secret.
func (b *deliveryBundle) saved(t *testing.T, endpointID string) saved {
	t.Helper()

	tenant, err := b.api.GetTenantWithResponse(t.Context(), b.tenant)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, tenant.StatusCode(), string(tenant.Body))

	ep, err := b.api.GetEndpointWithResponse(t.Context(), b.tenant, endpointID)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ep.StatusCode(), string(ep.Body))

	secret, err := b.api.GetEndpointSecretWithResponse(t.Context(), b.tenant, endpointID)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, secret.StatusCode(), string(secret.Body))

	return saved{tenant: *tenant.JSON200, endpoint: *ep.JSON200, secret: *secret.JSON200}
}

func TestSQLiteRestartKeepsEverything(t *testing.T) {
	t.Parallel()

	var (
		vars  = environ(testdb.SQLiteURL(t), "HERALD_ALLOWED_NETWORKS=127.0.0.0/8", "HERALD_RETRY_SCHEDULE=1s")
		first = start(t, vars, "serve")
		key   = first.await(t, keyRe)
		b     = newBundle(t, first.await(t, listeningRe), key)
		r     = newReceiver(t, reply(http.StatusInternalServerError), reply(http.StatusOK))
		ep    = b.endpoint(t, r, client.EndpointInput{})
	)

	previous := b.secret(t, ep.Id)
	rotated, err := b.api.RotateEndpointSecretWithResponse(t.Context(), b.tenant, ep.Id, client.SecretRotation{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rotated.StatusCode(), string(rotated.Body))

	current := rotated.JSON200.Key
	r.trust(current, previous)

	before := b.saved(t, ep.Id)
	require.NotNil(t, before.secret.PreviousExpiresAt, "the previous secret is still in use")

	// Stop as soon as the failed first try is on record, with its retry
	// due a second later.
	published := b.publish(t, "invoice.paid", `{"n":1}`)
	require.Eventually(t, func() bool {
		res, err := b.api.GetMessageWithResponse(t.Context(), b.tenant, published.Id)

		return err == nil && res.JSON200 != nil && res.JSON200.Deliveries[0].Attempts == 1
	}, waitFor, 10*time.Millisecond, "the first try is not on record:\n%s", b)
	require.NoError(t, first.stop(t))
	require.Len(t, r.received(), 1, "the first serve made the retry before it stopped, so none is left")

	second := start(t, vars, "serve")
	b.api = newClient(t, second.await(t, listeningRe), key)
	b.log = []*buffer{first.stderr, second.stderr}
	require.NotContains(t, second.stdout.String(), "hk_", "a restart prints no new key")
	require.Equal(t, before, b.saved(t, ep.Id))

	d := deliveryTo(t, b.settled(t, published.Id), ep.Id)
	require.Equal(t, client.DeliveryStatusSucceeded, d.Status)
	require.Equal(t, 2, d.Attempts)

	got := r.await(t, 2)
	require.Len(t, got, 2)
	require.Equal(t, []string{published.Id, published.Id}, webhookIDs(got), "the same webhook-id on the retry")
	require.Len(t, strings.Fields(got[1].header.Get(standardwebhooks.HeaderWebhookSignature)), 2,
		"the retry is signed with the current and the previous secret")

	attempts := b.attempts(t, published.Id)
	require.Len(t, attempts, 2)
	require.Equal(t, new(http.StatusOK), attempts[0].StatusCode)
	require.Equal(t, new(http.StatusInternalServerError), attempts[1].StatusCode)
	require.NoError(t, second.stop(t))
}

// runBriefly runs herald with args and returns its error, or what it
// printed if it is still running after a while.
func runBriefly(t *testing.T, environ []string, args ...string) error {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()

	var stdout buffer

	err := cli.Run(ctx, args, environ, &stdout, &buffer{})
	if ctx.Err() != nil {
		return fmt.Errorf("herald %s ran until stopped: %w; stdout:\n%s", strings.Join(args, " "), err, &stdout)
	}

	return err //nolint:wrapcheck // the test reads herald's own error
}

func TestSQLiteFileIsForOneProcess(t *testing.T) {
	t.Parallel()

	var (
		url   = testdb.SQLiteURL(t)
		first = start(t, environ(url, "HERALD_ALLOWED_NETWORKS=127.0.0.0/8"), "serve")
		key   = first.await(t, keyRe)
		b     = newBundle(t, first.await(t, listeningRe), key)
	)

	b.log = []*buffer{first.stderr}

	for _, args := range [][]string{{"serve"}, {"migrate", "version"}, {"migrate", "up"}} {
		err := runBriefly(t, environ(url), args...)
		require.ErrorContains(t, err, "in use by another Herald process", args)
		require.ErrorContains(t, err, filepath.Base(url), "the error names the file")
	}

	// The first serve goes on serving the API and delivering.
	r := newReceiver(t)
	ep := b.endpoint(t, r, client.EndpointInput{})
	published := b.publish(t, "invoice.paid", `{"n":1}`)
	require.Equal(t, client.DeliveryStatusSucceeded, deliveryTo(t, b.settled(t, published.Id), ep.Id).Status)
	require.NoError(t, first.stop(t))

	// Once it stops, the file is free.
	again := start(t, environ(url), "serve")
	b.api = newClient(t, again.await(t, listeningRe), key)
	require.Equal(t, client.DeliveryStatusSucceeded, b.message(t, published.Id).Deliveries[0].Status)
	require.NoError(t, again.stop(t))
}

func TestSQLiteMigrateMakesTheFileAndItsDirectory(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "var", "lib", "herald", "herald.db")

	var stdout buffer
	require.NoError(t, cli.Run(t.Context(), []string{"migrate", "up"}, environ("sqlite://"+path), &stdout, &buffer{}))
	require.Regexp(t, fmt.Sprintf(`^herald schema version %d\n`, schema.Latest()), stdout.String())
	require.FileExists(t, path)
}

// TestAPIAndWorkerAloneLeaveTheSQLiteFileAlone checks that herald api and
// herald worker refuse a SQLite URL before they touch the file: with
// HERALD_DATABASE_URL unset they would otherwise make and migrate
// herald.db in whatever directory they were started in.
func TestAPIAndWorkerAloneLeaveTheSQLiteFileAlone(t *testing.T) {
	t.Parallel()

	for _, command := range []string{"api", "worker"} {
		path := filepath.Join(t.TempDir(), "herald.db")
		err := runBriefly(t, environ("sqlite://"+path, "HERALD_API_KEY=a-configured-key-of-some-length"), command)
		require.ErrorContains(t, err, "a SQLite database runs in one process", command)
		require.NoFileExists(t, path, "herald %s made the database it refuses to run on", command)
	}
}
