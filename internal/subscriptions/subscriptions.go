// Package subscriptions holds who receives webhooks: tenants, the customers
// of the company running Herald, and their endpoints, the URLs that webhooks
// are delivered to, with the rules that keep both valid.
package subscriptions

import (
	"errors"
	"time"
)

var (
	// ErrTenantNotFound is returned when no tenant has the given id.
	ErrTenantNotFound = errors.New("subscriptions: tenant not found")

	// ErrEndpointNotFound is returned when the tenant has no endpoint with
	// the given id.
	ErrEndpointNotFound = errors.New("subscriptions: endpoint not found")

	// ErrEndpointDisabled is returned when an endpoint must be enabled for
	// what was asked, such as sending it a delivery again.
	ErrEndpointDisabled = errors.New("subscriptions: endpoint disabled")
)

// DisabledError is returned when an endpoint must be enabled for what was
// asked, and says why it was disabled. It is [ErrEndpointDisabled] to
// [errors.Is].
type DisabledError struct {
	// Reason says why the endpoint was disabled; it is empty when whoever
	// disabled it gave no reason.
	Reason string
}

func (e *DisabledError) Error() string {
	if e.Reason == "" {
		return ErrEndpointDisabled.Error()
	}

	return ErrEndpointDisabled.Error() + ": " + e.Reason
}

// Unwrap returns [ErrEndpointDisabled].
func (e *DisabledError) Unwrap() error {
	return ErrEndpointDisabled
}

// now returns the current time at the precision the databases keep, so that
// a value read back equals the value written.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}
