// Package egress keeps Herald's outbound connections away from addresses
// that are not on the public internet.
//
// Tenants choose where Herald sends their webhooks, so a tenant could point
// an endpoint at Herald's own host, its database or a cloud metadata
// service. A [Policy] refuses loopback, private, link-local, multicast and
// other special-purpose addresses, except inside the networks an operator
// allowed with HERALD_ALLOWED_NETWORKS (read by [ParseNetworks]).
//
// The decisive check runs when a connection is made: [Policy.Dialer]
// returns a dialer whose [Policy.Control] hook sees the IP address actually
// being dialed, after name resolution. A name that resolves to 127.0.0.1 is
// therefore refused, and a name whose records change between a check and
// the dial gains nothing. [Policy.CheckURLHost] gives early feedback when
// an endpoint is registered but is no substitute for the dial-time check.
//
// Every refusal wraps [ErrRefused].
package egress
