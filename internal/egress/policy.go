package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ErrRefused is wrapped by every refusal of a [Policy]. The wrapping error
// names the refused address and the kind of range it lies in.
var ErrRefused = errors.New("egress: destination refused")

// allowHint tells an operator how to lift a refusal.
const allowHint = "to allow it, add its network to HERALD_ALLOWED_NETWORKS"

// loopback4 and loopback6 stand for the addresses a localhost name
// resolves to.
var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// Policy decides which addresses Herald may dial: public unicast
// addresses, and any address inside one of the allowed networks. The zero
// Policy allows public addresses only. A Policy is immutable and safe for
// concurrent use.
type Policy struct {
	allowed []netip.Prefix
}

// NewPolicy returns a policy that also allows every address inside the
// allowed prefixes, whatever range it lies in. The slice is copied. An
// IPv4-mapped IPv6 prefix such as ::ffff:10.0.0.0/104 is taken as the IPv4
// prefix it maps, 10.0.0.0/8.
func NewPolicy(allowed []netip.Prefix) *Policy {
	p := &Policy{allowed: make([]netip.Prefix, 0, len(allowed))}
	for _, prefix := range allowed {
		p.allowed = append(p.allowed, unmapPrefix(prefix))
	}

	return p
}

// CheckAddr returns nil if addr is a public unicast address or lies inside
// an allowed prefix, and otherwise an error wrapping [ErrRefused]. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as its IPv4 address,
// and an IPv6 zone is ignored.
func (p *Policy) CheckAddr(addr netip.Addr) error {
	if !addr.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrRefused)
	}

	a := addr.Unmap().WithZone("")

	r, ok := lookupSpecial(a)
	if !ok || p.allows(a) {
		return nil
	}

	return fmt.Errorf("%w: %s is in the %s range %s; %s",
		ErrRefused, addr, r.kind, r.prefix, allowHint)
}

// CheckURLHost checks the host of an endpoint URL, as returned by
// [net/url.URL.Hostname], when the endpoint is registered. A literal IP
// address is judged by [Policy.CheckAddr]. The name "localhost" and names
// ending in ".localhost" are judged as loopback: they pass only if 127.0.0.1
// or ::1 is allowed. Any other name returns nil, since only the addresses it
// resolves to when dialed count.
func (p *Policy) CheckURLHost(host string) error {
	if addr, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(addr)
	}

	if !isLocalhost(host) || p.allows(loopback4) || p.allows(loopback6) {
		return nil
	}

	return fmt.Errorf("%w: %s is a loopback name; %s",
		ErrRefused, host, allowHint)
}

// allows reports whether a lies inside an allowed prefix.
func (p *Policy) allows(a netip.Addr) bool {
	return slices.ContainsFunc(p.allowed, func(prefix netip.Prefix) bool {
		return prefix.Contains(a)
	})
}

// isLocalhost reports whether host is "localhost" or a name under it, in any
// case and with or without a trailing dot. Such names resolve to loopback
// addresses.
func isLocalhost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))

	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix into the IPv4 prefix it
// covers, and clears host bits. Other prefixes are only masked.
func unmapPrefix(prefix netip.Prefix) netip.Prefix {
	if prefix.Addr().Is4In6() && prefix.Bits() >= 96 {
		prefix = netip.PrefixFrom(prefix.Addr().Unmap(), prefix.Bits()-96)
	}

	return prefix.Masked()
}
