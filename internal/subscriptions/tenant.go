package subscriptions

import (
	"maps"
	"slices"
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

	if utf8.RuneCountInString(params.Name) > maxTenantNameLen {
		errs.Addf("name", "must be at most %d characters", maxTenantNameLen)
	}

	validateMetadata(&errs, params.Metadata)

	if err := errs.Err(); err != nil {
		return Tenant{}, err
	}

	metadata := params.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}

	t := now()

	return Tenant{ID: id, Name: params.Name, Metadata: metadata, CreatedAt: t, UpdatedAt: t}, nil
}

// ValidateTenantID reports why id cannot be a tenant id: it must be 1 to 128
// letters, digits, '_', '-' or '.'.
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

	for _, k := range slices.Sorted(maps.Keys(metadata)) {
		v := metadata[k]
		switch {
		case k == "" || utf8.RuneCountInString(k) > maxMetadataKeyLen:
			errs.Addf("metadata", "keys must be 1 to %d characters", maxMetadataKeyLen)
		case utf8.RuneCountInString(v) > maxMetadataItemLen:
			errs.Addf("metadata."+k, "must be at most %d characters", maxMetadataItemLen)
		}
	}
}
