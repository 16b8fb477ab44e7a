package subscriptions_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

func newSecret(t *testing.T) signing.Secret {
	t.Helper()

	s, err := signing.NewSecret()
	require.NoError(t, err)

	return s
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()

	e := newEndpoint(t, subscriptions.EndpointParams{})
	old, next := e.Secret, newSecret(t)
	createdAt := e.CreatedAt

	before := time.Now()
	e.RotateSecret(next)

	require.Equal(t, next, e.Secret)
	requireNow(t, before, e.SecretCreatedAt)
	require.Equal(t, e.SecretCreatedAt, e.UpdatedAt)
	require.Equal(t, createdAt, e.CreatedAt)
	require.Equal(t, []subscriptions.PreviousSecret{
		{Secret: old, ExpiresAt: e.SecretCreatedAt.Add(24 * time.Hour)},
	}, e.PreviousSecrets)
	require.Equal(t, 24*time.Hour, subscriptions.RotationGrace)

	require.Equal(t, []signing.Secret{next, old}, e.SigningSecrets(e.SecretCreatedAt))
}

func TestRotateSecretDropsExpired(t *testing.T) {
	t.Parallel()

	var (
		e       = newEndpoint(t, subscriptions.EndpointParams{})
		current = e.Secret
		expired = newSecret(t)
		live    = newSecret(t)
		hour    = time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond)
	)

	e.PreviousSecrets = []subscriptions.PreviousSecret{
		{Secret: expired, ExpiresAt: time.Now().UTC().Add(-time.Second)},
		{Secret: live, ExpiresAt: hour},
	}
	e.RotateSecret(newSecret(t))

	require.Equal(t, []subscriptions.PreviousSecret{
		{Secret: live, ExpiresAt: hour},
		{Secret: current, ExpiresAt: e.SecretCreatedAt.Add(subscriptions.RotationGrace)},
	}, e.PreviousSecrets)
}

func TestRotateSecretKeepsAtMostFive(t *testing.T) {
	t.Parallel()

	e := newEndpoint(t, subscriptions.EndpointParams{})
	secrets := make([]signing.Secret, 1, 8)
	secrets[0] = e.Secret

	for range 7 {
		next := newSecret(t)
		e.RotateSecret(next)
		secrets = append(secrets, next)
	}

	// The oldest go first: of the seven replaced, the last five remain, oldest
	// first.
	require.Len(t, e.PreviousSecrets, 5)

	for i, p := range e.PreviousSecrets {
		require.Equal(t, secrets[2+i], p.Secret, "previous secret %d", i)
	}

	require.Equal(t, secrets[7], e.Secret)

	got := e.SigningSecrets(e.SecretCreatedAt)
	require.Equal(t, append([]signing.Secret{secrets[7]}, secrets[2:7]...), got)
}

func TestSigningSecrets(t *testing.T) {
	t.Parallel()

	var (
		base    = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		current = newSecret(t)
		first   = newSecret(t)
		second  = newSecret(t)
	)

	e := subscriptions.Endpoint{
		Secret: current,
		PreviousSecrets: []subscriptions.PreviousSecret{
			{Secret: first, ExpiresAt: base.Add(time.Hour)},
			{Secret: second, ExpiresAt: base.Add(2 * time.Hour)},
		},
	}

	tests := []struct {
		name string
		at   time.Time
		want []signing.Secret
	}{
		{name: "both valid", at: base, want: []signing.Secret{current, first, second}},
		{name: "first nearly expired", at: base.Add(time.Hour - 1), want: []signing.Secret{current, first, second}},
		{name: "first expired", at: base.Add(time.Hour), want: []signing.Secret{current, second}},
		{name: "both expired", at: base.Add(2 * time.Hour), want: []signing.Secret{current}},
		{name: "long after", at: base.Add(1000 * time.Hour), want: []signing.Secret{current}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.want, e.SigningSecrets(tt.at))
		})
	}
}

func TestPreviousExpiry(t *testing.T) {
	t.Parallel()

	var (
		base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		s    = newSecret(t)
	)

	// Out of order on purpose: the latest expiry wins wherever it is.
	e := subscriptions.Endpoint{
		Secret: s,
		PreviousSecrets: []subscriptions.PreviousSecret{
			{Secret: s, ExpiresAt: base.Add(3 * time.Hour)},
			{Secret: s, ExpiresAt: base.Add(time.Hour)},
		},
	}

	tests := []struct {
		name string
		e    subscriptions.Endpoint
		at   time.Time
		want time.Time // zero when none is valid
	}{
		{name: "no previous secret", e: subscriptions.Endpoint{Secret: s}, at: base},
		{name: "latest of several", e: e, at: base, want: base.Add(3 * time.Hour)},
		{name: "one expired", e: e, at: base.Add(2 * time.Hour), want: base.Add(3 * time.Hour)},
		{name: "all expired", e: e, at: base.Add(3 * time.Hour)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, ok := tt.e.PreviousExpiry(tt.at)
			require.Equal(t, !tt.want.IsZero(), ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseSecret(t *testing.T) {
	t.Parallel()

	want := newSecret(t)

	got, err := subscriptions.ParseSecret("secret", want.Encode())
	require.NoError(t, err)
	require.Equal(t, want, got)

	for _, bad := range []string{"", "whsec_", "whsec_c2hvcnQ=", "sk_" + want.Encode()[6:], "whsec_!!!!"} {
		got, err := subscriptions.ParseSecret("new_secret", bad)
		requireFields(t, err, validation.FieldError{Field: "new_secret", Detail: secretRule})
		require.Nil(t, got)
	}
}
