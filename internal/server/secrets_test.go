package server_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/signing"
)

// getSecret returns an endpoint's secret through the API.
func (b *testBundle) getSecret(t *testing.T, tenantID, id string) client.EndpointSecret {
	t.Helper()

	res, err := b.client.GetEndpointSecretWithResponse(t.Context(), tenantID, id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON200
}

// rotate rotates an endpoint's secret through the API.
func (b *testBundle) rotate(t *testing.T, tenantID, id string, in client.SecretRotation) client.EndpointSecret {
	t.Helper()

	res, err := b.client.RotateEndpointSecretWithResponse(t.Context(), tenantID, id, in)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON200
}

// newSecretText returns the text form of a fresh secret of n bytes, padded
// the way the API writes secrets.
func newSecretText(t *testing.T, n int) string {
	t.Helper()

	key := make([]byte, n)
	_, err := rand.Read(key)
	require.NoError(t, err)

	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// requireNoSecret asserts that an endpoint's JSON holds no secret.
func requireNoSecret(t *testing.T, body []byte) {
	t.Helper()

	require.NotContains(t, string(body), "whsec_")
	require.NotContains(t, string(body), `"secret"`)
	require.NotContains(t, string(body), `"key"`)
}

func TestEndpointSecret(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	res, err := b.client.CreateEndpointWithResponse(t.Context(), "acme", client.EndpointInput{
		Url: "https://example.com/hooks",
	})
	require.NoError(t, err)
	requireNoSecret(t, res.Body)

	ep := *res.JSON201
	secret := b.getSecret(t, "acme", ep.Id)
	require.True(t, strings.HasPrefix(secret.Key, "whsec_"), "key %q", secret.Key)

	parsed, err := signing.ParseSecret(secret.Key)
	require.NoError(t, err)
	require.Len(t, parsed, 32)
	require.True(t, ep.CreatedAt.Equal(secret.CreatedAt))
	require.Nil(t, secret.PreviousExpiresAt)

	// Every endpoint gets its own secret.
	other := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	require.NotEqual(t, secret.Key, b.getSecret(t, "acme", other.Id).Key)

	requireNoSecret(t, mustGetEndpoint(t, b, "acme", ep.Id))

	list, err := b.client.ListEndpointsWithResponse(t.Context(), "acme", nil)
	require.NoError(t, err)
	requireNoSecret(t, list.Body)
}

func TestEndpointSuppliedSecret(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	for _, given := range []string{
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		newSecretText(t, 24),
		newSecretText(t, 32),
		newSecretText(t, 64),
	} {
		res, err := b.client.CreateEndpointWithResponse(t.Context(), "acme", client.EndpointInput{
			Url: "https://example.com/hooks", Secret: &given,
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, res.StatusCode(), "body: %s", res.Body)
		requireNoSecret(t, res.Body)

		require.Equal(t, given, b.getSecret(t, "acme", res.JSON201.Id).Key)
	}

	// Unpadded base64 is accepted too; the key stays the same.
	padded := newSecretText(t, 32)
	unpadded := strings.TrimRight(padded, "=")
	require.NotEqual(t, padded, unpadded)

	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks", Secret: &unpadded})

	got, err := signing.ParseSecret(b.getSecret(t, "acme", ep.Id).Key)
	require.NoError(t, err)

	want, err := signing.ParseSecret(unpadded)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestRotateEndpointSecret(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	old := b.getSecret(t, "acme", ep.Id)

	before := time.Now()
	rotated := b.rotate(t, "acme", ep.Id, client.SecretRotation{})

	require.NotEqual(t, old.Key, rotated.Key)
	parsed, err := signing.ParseSecret(rotated.Key)
	require.NoError(t, err)
	require.Len(t, parsed, 32)
	require.WithinRange(t, rotated.CreatedAt, before.Add(-time.Second), time.Now())
	require.NotNil(t, rotated.PreviousExpiresAt)
	require.WithinRange(t, *rotated.PreviousExpiresAt,
		before.Add(24*time.Hour-time.Second), time.Now().Add(24*time.Hour))

	// GET answers the same as the rotation did.
	got := b.getSecret(t, "acme", ep.Id)
	require.Equal(t, rotated.Key, got.Key)
	require.True(t, rotated.CreatedAt.Equal(got.CreatedAt))
	require.NotNil(t, got.PreviousExpiresAt)
	require.True(t, rotated.PreviousExpiresAt.Equal(*got.PreviousExpiresAt))

	// Both secrets sign until the old one expires; the new one first.
	stored, err := b.store.GetEndpoint(t.Context(), "acme", ep.Id)
	require.NoError(t, err)

	secrets := stored.SigningSecrets(time.Now())
	require.Len(t, secrets, 2)
	require.Equal(t, rotated.Key, secrets[0].Encode())
	require.Equal(t, old.Key, secrets[1].Encode())
	require.Len(t, stored.SigningSecrets(time.Now().Add(25*time.Hour)), 1)

	// The endpoint itself shows neither, and moved its updated_at.
	body := mustGetEndpoint(t, b, "acme", ep.Id)
	requireNoSecret(t, body)
	require.NotContains(t, string(body), strings.TrimPrefix(rotated.Key, "whsec_"))
}

func TestRotateEndpointSecretSupplied(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	old := b.getSecret(t, "acme", ep.Id)

	next := newSecretText(t, 48)
	rotated := b.rotate(t, "acme", ep.Id, client.SecretRotation{Key: &next})
	require.Equal(t, next, rotated.Key)
	require.Equal(t, next, b.getSecret(t, "acme", ep.Id).Key)

	stored, err := b.store.GetEndpoint(t.Context(), "acme", ep.Id)
	require.NoError(t, err)

	secrets := stored.SigningSecrets(time.Now())
	require.Len(t, secrets, 2)
	require.Equal(t, next, secrets[0].Encode())
	require.Equal(t, old.Key, secrets[1].Encode())
}

func TestRotateEndpointSecretWithoutBody(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	old := b.getSecret(t, "acme", ep.Id)

	res, err := b.client.RotateEndpointSecretWithBodyWithResponse(t.Context(), "acme", ep.Id, "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.NotEqual(t, old.Key, res.JSON200.Key)
}

func TestRotateEndpointSecretRepeatedly(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})

	keys := make([]string, 0, 8)
	keys = append(keys, b.getSecret(t, "acme", ep.Id).Key)

	for range 7 {
		keys = append(keys, b.rotate(t, "acme", ep.Id, client.SecretRotation{}).Key)
	}

	// The current secret and at most five previous ones sign, newest first.
	stored, err := b.store.GetEndpoint(t.Context(), "acme", ep.Id)
	require.NoError(t, err)

	secrets := stored.SigningSecrets(time.Now())
	require.Len(t, secrets, 6)
	require.Equal(t, keys[7], secrets[0].Encode())

	previous := make([]string, 0, 5)
	for _, s := range secrets[1:] {
		previous = append(previous, s.Encode())
	}

	require.ElementsMatch(t, keys[2:7], previous)
}

func TestRotateEndpointSecretBadKey(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	old := b.getSecret(t, "acme", ep.Id)

	for _, key := range []string{"", "nope", "whsec_!!!", "whsec_" + strings.Repeat("A", 22), old.Key + "\n"} {
		res, err := b.client.RotateEndpointSecretWithResponse(t.Context(), "acme", ep.Id, client.SecretRotation{
			Key: &key,
		})
		require.NoError(t, err)

		p := requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "key")
		require.NotNil(t, res.ApplicationproblemJSON422)
		require.NotContains(t, p.Detail, "AAAA", "a refused key is echoed")
	}

	// Nothing rotated.
	got := b.getSecret(t, "acme", ep.Id)
	require.Equal(t, old.Key, got.Key)
	require.Nil(t, got.PreviousExpiresAt)
}
