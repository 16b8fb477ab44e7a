package subscriptions

import (
	"time"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/validation"
)

const (
	// RotationGrace is how long a secret replaced by a rotation still signs
	// webhooks, so receivers can switch to the new one at their own pace.
	RotationGrace = 24 * time.Hour

	// maxPreviousSecrets bounds the secrets that sign beside the current
	// one, so that rotating in a loop cannot grow every webhook's
	// signature header without limit. The oldest is dropped first.
	maxPreviousSecrets = 5
)

// PreviousSecret is a secret replaced by a rotation that still signs
// webhooks until ExpiresAt.
type PreviousSecret struct {
	Secret    signing.Secret
	ExpiresAt time.Time
}

// RotateSecret makes next the endpoint's current secret. The current one
// keeps signing for [RotationGrace]; secrets already expired are dropped.
func (e *Endpoint) RotateSecret(next signing.Secret) {
	t := now()

	kept := make([]PreviousSecret, 0, len(e.PreviousSecrets)+1)
	for _, p := range e.PreviousSecrets {
		if p.ExpiresAt.After(t) {
			kept = append(kept, p)
		}
	}

	kept = append(kept, PreviousSecret{Secret: e.Secret, ExpiresAt: t.Add(RotationGrace)})
	if len(kept) > maxPreviousSecrets {
		kept = kept[len(kept)-maxPreviousSecrets:]
	}

	e.PreviousSecrets = kept
	e.Secret = next
	e.SecretCreatedAt = t
	e.UpdatedAt = t
}

// SigningSecrets returns the secrets that sign a webhook sent at t: the
// current one first, then every previous one not yet expired.
func (e *Endpoint) SigningSecrets(t time.Time) []signing.Secret {
	secrets := []signing.Secret{e.Secret}
	for _, p := range e.PreviousSecrets {
		if p.ExpiresAt.After(t) {
			secrets = append(secrets, p.Secret)
		}
	}

	return secrets
}

// PreviousExpiry returns when the last previous secret still valid at t
// expires, and false when none is.
func (e *Endpoint) PreviousExpiry(t time.Time) (time.Time, bool) {
	var last time.Time
	for _, p := range e.PreviousSecrets {
		if p.ExpiresAt.After(t) && p.ExpiresAt.After(last) {
			last = p.ExpiresAt
		}
	}

	return last, !last.IsZero()
}

// secretRule is what a producer-supplied secret must look like.
//
//nolint:gosec // G101: the wording of a rule, not a credential
const secretRule = "must be whsec_ followed by the base64 of 24 to 64 bytes"

// ParseSecret decodes a secret supplied by a producer, returning a
// [*validation.Error] about field when it is malformed.
func ParseSecret(field, s string) (signing.Secret, error) {
	secret, err := signing.ParseSecret(s)
	if err != nil {
		return nil, validation.Fail(field, "%s", secretRule)
	}

	return secret, nil
}
