package subscriptions_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

const (
	tenantIDLength = "must be 1 to 128 characters"
	tenantIDChars  = "may hold only letters, digits, '_', '-' and '.'"
)

// requireFields asserts that err is a [*validation.Error] holding exactly
// want, in order.
func requireFields(t *testing.T, err error, want ...validation.FieldError) {
	t.Helper()

	var verr *validation.Error
	require.ErrorAs(t, err, &verr)
	require.Equal(t, want, verr.Fields)
}

// requireNow asserts that got is a time taken between before and now, in
// UTC and at microsecond precision.
func requireNow(t *testing.T, before, got time.Time) {
	t.Helper()

	require.Equal(t, time.UTC, got.Location())
	require.Equal(t, got, got.Truncate(time.Microsecond))
	require.False(t, got.Before(before.Truncate(time.Microsecond)), "%v is before %v", got, before)
	require.False(t, got.After(time.Now()), "%v is in the future", got)
}

func TestValidateTenantID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		id     string
		detail string // empty when id is valid
	}{
		{name: "one character", id: "a"},
		{name: "128 characters", id: strings.Repeat("a", 128)},
		{name: "every allowed class", id: "Acme_corp-42.eu"},
		{name: "only punctuation", id: "._-"},
		{name: "empty", id: "", detail: tenantIDLength},
		{name: "129 characters", id: strings.Repeat("a", 129), detail: tenantIDLength},
		{name: "space", id: "acme corp", detail: tenantIDChars},
		{name: "slash", id: "acme/corp", detail: tenantIDChars},
		{name: "colon", id: "acme:corp", detail: tenantIDChars},
		{name: "at sign", id: "ops@acme", detail: tenantIDChars},
		{name: "percent", id: "acme%20", detail: tenantIDChars},
		{name: "asterisk", id: "*", detail: tenantIDChars},
		{name: "control character", id: "acme\x00", detail: tenantIDChars},
		{name: "line break", id: "acme\n", detail: tenantIDChars},
		{name: "non-ASCII letter", id: "café", detail: tenantIDChars},
		{name: "invalid UTF-8", id: "acme\xff", detail: tenantIDChars},
		{name: "128 bytes of two-byte letters", id: strings.Repeat("é", 64), detail: tenantIDChars},
		{name: "129 bytes of two-byte letters", id: strings.Repeat("é", 64) + "a", detail: tenantIDLength},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := subscriptions.ValidateTenantID(tt.id)
			if tt.detail == "" {
				require.NoError(t, err)

				return
			}

			requireFields(t, err, validation.FieldError{Field: "tenant_id", Detail: tt.detail})
		})
	}
}

func TestNewTenant(t *testing.T) {
	t.Parallel()

	before := time.Now()
	metadata := map[string]string{"plan": "pro"}

	tenant, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{
		Name:     "Acme Corp",
		Metadata: metadata,
	})
	require.NoError(t, err)

	require.Equal(t, "acme", tenant.ID)
	require.Equal(t, "Acme Corp", tenant.Name)
	require.Equal(t, metadata, tenant.Metadata)
	requireNow(t, before, tenant.CreatedAt)
	require.Equal(t, tenant.CreatedAt, tenant.UpdatedAt)
}

func TestNewTenantNilMetadata(t *testing.T) {
	t.Parallel()

	tenant, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{})
	require.NoError(t, err)
	require.NotNil(t, tenant.Metadata)
	require.Empty(t, tenant.Metadata)
	require.Empty(t, tenant.Name)
}

func TestNewTenantLimits(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		params subscriptions.TenantParams
		want   []validation.FieldError // nil when params are valid
	}{
		{
			name:   "name of 256 characters",
			params: subscriptions.TenantParams{Name: strings.Repeat("é", 256)},
		},
		{
			name:   "name of 257 characters",
			params: subscriptions.TenantParams{Name: strings.Repeat("é", 257)},
			want:   []validation.FieldError{{Field: "name", Detail: "must be at most 256 characters"}},
		},
		{
			name:   "32 metadata keys",
			params: subscriptions.TenantParams{Metadata: metadataOf(32)},
		},
		{
			name:   "33 metadata keys",
			params: subscriptions.TenantParams{Metadata: metadataOf(33)},
			want:   []validation.FieldError{{Field: "metadata", Detail: "must have at most 32 keys"}},
		},
		{
			name:   "key of 64 characters",
			params: subscriptions.TenantParams{Metadata: map[string]string{strings.Repeat("ü", 64): "v"}},
		},
		{
			name:   "key of 65 characters",
			params: subscriptions.TenantParams{Metadata: map[string]string{strings.Repeat("ü", 65): "v"}},
			want:   []validation.FieldError{{Field: "metadata", Detail: "keys must be 1 to 64 characters, without NUL"}},
		},
		{
			name:   "empty key",
			params: subscriptions.TenantParams{Metadata: map[string]string{"": "v"}},
			want:   []validation.FieldError{{Field: "metadata", Detail: "keys must be 1 to 64 characters, without NUL"}},
		},
		{
			name:   "value of 512 characters",
			params: subscriptions.TenantParams{Metadata: map[string]string{"k": strings.Repeat("ü", 512)}},
		},
		{
			name:   "empty value",
			params: subscriptions.TenantParams{Metadata: map[string]string{"k": ""}},
		},
		{
			name:   "value of 513 characters",
			params: subscriptions.TenantParams{Metadata: map[string]string{"k": strings.Repeat("ü", 513)}},
			want:   []validation.FieldError{{Field: "metadata.k", Detail: "must be at most 512 characters"}},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tenant, err := subscriptions.NewTenant("acme", tt.params)
			if tt.want == nil {
				require.NoError(t, err)
				require.Equal(t, tt.params.Name, tenant.Name)

				return
			}

			requireFields(t, err, tt.want...)
			require.Equal(t, subscriptions.Tenant{}, tenant)
		})
	}
}

// TestNewTenantReportsEveryField checks that each broken rule is reported,
// in a fixed order: id, name, then metadata by key.
func TestNewTenantReportsEveryField(t *testing.T) {
	t.Parallel()

	for range 10 { // map iteration order must not leak into the result
		_, err := subscriptions.NewTenant("", subscriptions.TenantParams{
			Name: strings.Repeat("n", 257),
			Metadata: map[string]string{
				"z": strings.Repeat("v", 513),
				"a": strings.Repeat("v", 513),
				"":  "v",
				"m": "fine",
			},
		})

		requireFields(t, err,
			validation.FieldError{Field: "tenant_id", Detail: tenantIDLength},
			validation.FieldError{Field: "name", Detail: "must be at most 256 characters"},
			validation.FieldError{Field: "metadata", Detail: "keys must be 1 to 64 characters, without NUL"},
			validation.FieldError{Field: "metadata.a", Detail: "must be at most 512 characters"},
			validation.FieldError{Field: "metadata.z", Detail: "must be at most 512 characters"},
		)
	}
}

func metadataOf(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("key%02d", i)] = "value"
	}

	return m
}
