package egress

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// keepAlive is the keep-alive period of the dialers made by
// [Policy.Dialer].
const keepAlive = 30 * time.Second

// Control is a [net.Dialer] Control function. It refuses, with an error
// wrapping [ErrRefused], a connection to an address the policy refuses,
// and any connection that is not TCP or UDP over IP. It runs after name
// resolution and before the connection is made, once for each address
// tried.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return fmt.Errorf("%w: network %q is not TCP or UDP", ErrRefused, network)
	}

	addrPort, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: parse dial address: %w", ErrRefused, err)
	}

	return p.CheckAddr(addrPort.Addr())
}

// Dialer returns a dialer that refuses the addresses p refuses, with the
// given connect timeout and a keep-alive period of 30 seconds.
//
// An [net/http.Transport] using the dialer must not use a proxy: the policy
// would judge the address of the proxy, not that of the destination.
func (p *Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout:   timeout,
		KeepAlive: keepAlive,
		Control:   p.Control,
	}
}
