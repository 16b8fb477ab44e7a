package subscriptions

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/validation"
)

// Limits on a tenant's fields.
const (
	maxTenantIDLen     = 128
	maxTenantNameLen   = 256
	maxMetadataKeys    = 32
	maxMetadataKeyLen  = 64
	maxMetadataItemLen = 512
)

// Tenant is one customer of the company running Herald. Its ID is the
// producer's own customer id, so producers need no mapping.
type Tenant struct {
	ID        string
	Name      string
	Metadata  map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TenantParams are the fields a producer sets when it creates or updates a
// tenant.
type TenantParams struct {
	Name     string
	Metadata map[string]string
}

// NewTenant returns the tenant that params describe, stamped with the
// current time, or a [*validation.Error] naming each invalid field.
func NewTenant(id string, params TenantParams) (Tenant, error) {
	var errs validation.Errors
	checkTenantID(&errs, id)

	checkText(&errs, "name", params.Name, maxTenantNameLen)

	validateMetadata(&errs, params.Metadata)

	if err := errs.Err(); err != nil {
		return Tenant{}, err
	}

	metadata := maps.Clone(params.Metadata)
	if metadata == nil {
		metadata = map[string]string{}
	}

	t := now()

	return Tenant{ID: id, Name: params.Name, Metadata: metadata, CreatedAt: t, UpdatedAt: t}, nil
}

// ValidateTenantID reports why id cannot be a tenant id: it must be 1 to 128
// letters, digits, '_', '-' or '.', and not "." or "..".
func ValidateTenantID(id string) error {
	var errs validation.Errors
	checkTenantID(&errs, id)

	return errs.Err()
}

func checkTenantID(errs *validation.Errors, id string) {
	if id == "" || len(id) > maxTenantIDLen {
		errs.Addf("tenant_id", "must be 1 to %d characters", maxTenantIDLen)
		return
	}

	if id == "." || id == ".." {
		// URLs cannot carry these as path segments.
		errs.Addf("tenant_id", "must not be . or ..")
		return
	}

	for _, r := range id {
		if !isIDRune(r) {
			errs.Addf("tenant_id", "may hold only letters, digits, '_', '-' and '.'")
			return
		}
	}
}

func isIDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '_' || r == '-' || r == '.'
}

func validateMetadata(errs *validation.Errors, metadata map[string]string) {
	if len(metadata) > maxMetadataKeys {
		errs.Addf("metadata", "must have at most %d keys", maxMetadataKeys)
		return
	}

	badKey := false

	for _, k := range slices.Sorted(maps.Keys(metadata)) {
		if k == "" || utf8.RuneCountInString(k) > maxMetadataKeyLen || strings.ContainsRune(k, 0) {
			if !badKey {
				errs.Addf("metadata", "keys must be 1 to %d characters, without NUL", maxMetadataKeyLen)
			}

			badKey = true

			continue
		}

		checkText(errs, "metadata."+k, metadata[k], maxMetadataItemLen)
	}
}

// checkText records that a free-text field is too long or holds a NUL
// character, which no database can store in text.
func checkText(errs *validation.Errors, field, s string, maxLen int) {
	switch {
	case utf8.RuneCountInString(s) > maxLen:
		errs.Addf(field, "must be at most %d characters", maxLen)
	case strings.ContainsRune(s, 0):
		errs.Addf(field, "must not contain NUL characters")
	}
}
