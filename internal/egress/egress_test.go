package egress_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/egress"
)

func TestParseNetworks(t *testing.T) {
	t.Parallel()

	prefixes := func(ss ...string) []netip.Prefix {
		ps := make([]netip.Prefix, len(ss))
		for i, s := range ss {
			ps[i] = netip.MustParsePrefix(s)
		}

		return ps
	}

	tests := []struct {
		name    string
		in      string
		want    []netip.Prefix
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "blank", in: "  ", want: nil},
		{name: "one", in: "10.0.0.0/8", want: prefixes("10.0.0.0/8")},
		{name: "several", in: "10.0.0.0/8,fd00::/8,127.0.0.0/8", want: prefixes("10.0.0.0/8", "fd00::/8", "127.0.0.0/8")},
		{name: "spaces", in: " 10.0.0.0/8 ,  fd00::/8\t", want: prefixes("10.0.0.0/8", "fd00::/8")},
		{name: "host bits cleared", in: "10.1.2.3/8", want: prefixes("10.0.0.0/8")},
		{name: "bare IPv4", in: "192.168.1.10", want: prefixes("192.168.1.10/32")},
		{name: "bare IPv6", in: "fd00::1", want: prefixes("fd00::1/128")},
		{name: "bad bits", in: "10.0.0.0/8, 10.0.0.0/33", wantErr: `network 2 "10.0.0.0/33"`},
		{name: "not an address", in: "intranet", wantErr: `network 1 "intranet"`},
		{name: "bad IPv4", in: "10.0.0.256", wantErr: `network 1 "10.0.0.256"`},
		{name: "empty item", in: "10.0.0.0/8,,fd00::/8", wantErr: `network 2 "": empty item`},
		{name: "trailing comma", in: "10.0.0.0/8,", wantErr: `network 2 "": empty item`},
		{name: "zone", in: "fe80::1%eth0", wantErr: `network 1 "fe80::1%eth0": zone not allowed`},
		{name: "zone in prefix", in: "fe80::1%eth0/64", wantErr: `network 1 "fe80::1%eth0/64"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := egress.ParseNetworks(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}

			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCheckAddr(t *testing.T) {
	t.Parallel()

	tests := []struct {
		addr string
		kind string // empty for a public address
	}{
		{addr: "8.8.8.8"},
		{addr: "1.1.1.1"},
		{addr: "2606:4700:4700::1111"},
		{addr: "2a00:1450:4001:80b::200e"},
		{addr: "::ffff:8.8.8.8"},
		{addr: "0.0.0.0", kind: "unspecified range 0.0.0.0/8"},
		{addr: "0.1.2.3", kind: "unspecified range 0.0.0.0/8"},
		{addr: "::", kind: "unspecified range ::/128"},
		{addr: "127.0.0.1", kind: "loopback range 127.0.0.0/8"},
		{addr: "127.255.255.254", kind: "loopback range 127.0.0.0/8"},
		{addr: "::1", kind: "loopback range ::1/128"},
		{addr: "::ffff:127.0.0.1", kind: "loopback range 127.0.0.0/8"},
		{addr: "10.0.0.1", kind: "private range 10.0.0.0/8"},
		{addr: "172.16.0.1", kind: "private range 172.16.0.0/12"},
		{addr: "172.31.255.255", kind: "private range 172.16.0.0/12"},
		{addr: "192.168.1.1", kind: "private range 192.168.0.0/16"},
		{addr: "fd12:3456::1", kind: "private range fc00::/7"},
		{addr: "100.64.0.1", kind: "shared (CGNAT) range 100.64.0.0/10"},
		{addr: "100.127.255.255", kind: "shared (CGNAT) range 100.64.0.0/10"},
		{addr: "169.254.169.254", kind: "link-local range 169.254.0.0/16"},
		{addr: "fe80::1", kind: "link-local range fe80::/10"},
		{addr: "fe80::1%eth0", kind: "link-local range fe80::/10"},
		{addr: "224.0.0.1", kind: "multicast range 224.0.0.0/4"},
		{addr: "239.255.255.250", kind: "multicast range 224.0.0.0/4"},
		{addr: "ff02::1", kind: "multicast range ff00::/8"},
		{addr: "255.255.255.255", kind: "broadcast range 255.255.255.255/32"},
		{addr: "240.0.0.1", kind: "reserved range 240.0.0.0/4"},
		{addr: "255.255.255.254", kind: "reserved range 240.0.0.0/4"},
		{addr: "192.0.2.1", kind: "documentation range 192.0.2.0/24"},
		{addr: "198.51.100.1", kind: "documentation range 198.51.100.0/24"},
		{addr: "203.0.113.1", kind: "documentation range 203.0.113.0/24"},
		{addr: "2001:db8::1", kind: "documentation range 2001:db8::/32"},
		{addr: "3fff::1", kind: "documentation range 3fff::/20"},
		{addr: "198.18.0.1", kind: "benchmarking range 198.18.0.0/15"},
		{addr: "198.19.255.255", kind: "benchmarking range 198.18.0.0/15"},
		{addr: "2001:2::1", kind: "benchmarking range 2001:2::/48"},
		{addr: "192.0.0.1", kind: "IETF protocol assignments range 192.0.0.0/24"},
		{addr: "64:ff9b::7f00:1", kind: "NAT64 range 64:ff9b::/96"},
		{addr: "64:ff9b::808:808", kind: "NAT64 range 64:ff9b::/96"},
		{addr: "64:ff9b:1::a00:1", kind: "NAT64 range 64:ff9b:1::/48"},
		{addr: "2002:7f00:1::1", kind: "6to4 range 2002::/16"},
		{addr: "2001::1", kind: "Teredo range 2001::/32"},
		{addr: "100::1", kind: "discard-only range 100::/64"},
		{addr: "::7f00:1", kind: "reserved range ::/3"},
		{addr: "5f00::1", kind: "reserved range 4000::/2"},
		{addr: "fec0::1", kind: "reserved range 8000::/1"},
	}
	p := egress.NewPolicy(nil)
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()

			err := p.CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.kind == "" {
				require.NoError(t, err)
				return
			}

			require.ErrorIs(t, err, egress.ErrRefused)
			require.ErrorContains(t, err, tt.addr+" is in the "+tt.kind)
			require.ErrorContains(t, err, "HERALD_ALLOWED_NETWORKS")
		})
	}
}

func TestCheckAddrInvalid(t *testing.T) {
	t.Parallel()

	err := egress.NewPolicy(nil).CheckAddr(netip.Addr{})
	require.ErrorIs(t, err, egress.ErrRefused)
	require.ErrorContains(t, err, "invalid address")
}

func TestCheckAddrAllowed(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		allowed string
		addr    string
		ok      bool
	}{
		{name: "allowed loopback", allowed: "127.0.0.0/8", addr: "127.0.0.1", ok: true},
		{name: "allowed loopback, mapped", allowed: "127.0.0.0/8", addr: "::ffff:127.0.0.1", ok: true},
		{name: "other private stays refused", allowed: "127.0.0.0/8", addr: "10.0.0.1"},
		{name: "IPv4 prefix does not allow IPv6", allowed: "127.0.0.0/8", addr: "::1"},
		{name: "single address", allowed: "10.1.2.3", addr: "10.1.2.3", ok: true},
		{name: "single address, neighbor", allowed: "10.1.2.3", addr: "10.1.2.4"},
		{name: "several prefixes", allowed: "10.0.0.0/8, fd00::/8", addr: "fd00::1", ok: true},
		{name: "mapped prefix", allowed: "::ffff:10.0.0.0/104", addr: "10.9.8.7", ok: true},
		{name: "mapped prefix, outside", allowed: "::ffff:10.0.0.0/104", addr: "11.0.0.1", ok: true},
		{name: "mapped prefix, private outside", allowed: "::ffff:10.0.0.0/104", addr: "192.168.0.1"},
		{name: "NAT64 allowed", allowed: "64:ff9b::/96", addr: "64:ff9b::a00:1", ok: true},
		{name: "zone ignored", allowed: "fe80::/10", addr: "fe80::1%eth0", ok: true},
		{name: "public stays allowed", allowed: "10.0.0.0/8", addr: "8.8.8.8", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			allowed, err := egress.ParseNetworks(tt.allowed)
			require.NoError(t, err)

			err = egress.NewPolicy(allowed).CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.ok {
				require.NoError(t, err)
				return
			}

			require.ErrorIs(t, err, egress.ErrRefused)
		})
	}
}

func TestZeroPolicy(t *testing.T) {
	t.Parallel()

	var p egress.Policy
	require.NoError(t, p.CheckAddr(netip.MustParseAddr("8.8.8.8")))
	require.ErrorIs(t, p.CheckAddr(netip.MustParseAddr("127.0.0.1")), egress.ErrRefused)
}

func TestCheckURLHost(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		allowed string
		host    string
		wantErr string // empty when the host passes
	}{
		{name: "IPv4 loopback", host: "127.0.0.1", wantErr: "127.0.0.1 is in the loopback range"},
		{name: "IPv4 private", host: "10.0.0.1", wantErr: "10.0.0.1 is in the private range"},
		{name: "IPv4 public", host: "8.8.8.8"},
		{name: "IPv6 loopback", host: "::1", wantErr: "::1 is in the loopback range"},
		{name: "IPv6 link-local with zone", host: "fe80::1%eth0", wantErr: "fe80::1%eth0 is in the link-local range"},
		{name: "IPv6 public", host: "2606:4700:4700::1111"},
		{name: "localhost", host: "localhost", wantErr: "localhost is a loopback name"},
		{name: "localhost upper case", host: "LocalHost", wantErr: "LocalHost is a loopback name"},
		{name: "localhost trailing dot", host: "localhost.", wantErr: "localhost. is a loopback name"},
		{name: "under localhost", host: "foo.localhost", wantErr: "foo.localhost is a loopback name"},
		{name: "localhost allowed", allowed: "127.0.0.0/8", host: "localhost"},
		{name: "localhost allowed by ::1", allowed: "::1", host: "api.localhost"},
		{name: "localhost, other network allowed", allowed: "10.0.0.0/8", host: "localhost", wantErr: "loopback name"},
		{name: "loopback allowed", allowed: "127.0.0.0/8", host: "127.0.0.1"},
		{name: "name", host: "example.com"},
		{name: "name containing localhost", host: "localhost.example.com"},
		{name: "name ending in localhost", host: "mylocalhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			allowed, err := egress.ParseNetworks(tt.allowed)
			require.NoError(t, err)

			err = egress.NewPolicy(allowed).CheckURLHost(tt.host)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}

			require.ErrorIs(t, err, egress.ErrRefused)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, "HERALD_ALLOWED_NETWORKS")
		})
	}
}

func TestControl(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		network string
		address string
		wantErr string // empty when the connection may proceed
	}{
		{name: "public tcp4", network: "tcp4", address: "8.8.8.8:443"},
		{name: "public tcp6", network: "tcp6", address: "[2606:4700:4700::1111]:443"},
		{name: "public udp", network: "udp", address: "1.1.1.1:53"},
		{name: "loopback", network: "tcp4", address: "127.0.0.1:80", wantErr: "127.0.0.1 is in the loopback range"},
		{name: "mapped loopback", network: "tcp6", address: "[::ffff:127.0.0.1]:80", wantErr: "loopback range"},
		{name: "link-local with zone", network: "tcp6", address: "[fe80::1%eth0]:80", wantErr: "link-local range"},
		{name: "unix socket", network: "unix", address: "/run/postgresql/.s.PGSQL.5432", wantErr: `network "unix"`},
		{name: "ip network", network: "ip4:icmp", address: "8.8.8.8", wantErr: `network "ip4:icmp"`},
		{name: "unresolved name", network: "tcp", address: "example.com:443", wantErr: "parse dial address"},
		{name: "no port", network: "tcp", address: "8.8.8.8", wantErr: "parse dial address"},
	}
	p := egress.NewPolicy(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := p.Control(tt.network, tt.address, nil)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}

			require.ErrorIs(t, err, egress.ErrRefused)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestDialer(t *testing.T) {
	t.Parallel()

	d := egress.NewPolicy(nil).Dialer(5 * time.Second)
	require.Equal(t, 5*time.Second, d.Timeout)
	require.Equal(t, 30*time.Second, d.KeepAlive)
	require.NotNil(t, d.Control)
}

// testServer is an HTTP server on 127.0.0.1 that counts the connections
// made to it.
type testServer struct {
	*httptest.Server

	conns atomic.Int64
}

// setup starts a testServer, closed when the test ends.
func setup(t *testing.T) *testServer {
	t.Helper()

	srv := &testServer{}
	srv.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			srv.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	return srv
}

// post sends an empty webhook to url through a client dialing with p.
func post(t *testing.T, p *egress.Policy, url string) error {
	t.Helper()

	transport := &http.Transport{DialContext: p.Dialer(5 * time.Second).DialContext}
	t.Cleanup(transport.CloseIdleConnections)

	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader("{}"))
	require.NoError(t, err)

	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	return nil
}

func TestHTTPClient(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		allowed string
		ok      bool
	}{
		{name: "nothing allowed"},
		{name: "other network allowed", allowed: "10.0.0.0/8"},
		{name: "loopback allowed", allowed: "127.0.0.0/8", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv := setup(t)

			allowed, err := egress.ParseNetworks(tt.allowed)
			require.NoError(t, err)

			err = post(t, egress.NewPolicy(allowed), srv.URL)
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, int64(1), srv.conns.Load())
				return
			}

			require.ErrorIs(t, err, egress.ErrRefused)
			require.ErrorContains(t, err, "127.0.0.1 is in the loopback range")
			require.Zero(t, srv.conns.Load())
		})
	}
}

func TestDialLocalhost(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		allowed string
		ok      bool
	}{
		{name: "nothing allowed"},
		{name: "loopback allowed", allowed: "127.0.0.0/8", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv := setup(t)
			port := netip.MustParseAddrPort(srv.Listener.Addr().String()).Port()
			addr := net.JoinHostPort("localhost", strconv.Itoa(int(port)))

			allowed, err := egress.ParseNetworks(tt.allowed)
			require.NoError(t, err)

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()

			conn, err := egress.NewPolicy(allowed).Dialer(time.Second).DialContext(ctx, "tcp", addr)
			if tt.ok {
				require.NoError(t, err)
				require.NoError(t, conn.Close())
				return
			}

			require.ErrorIs(t, err, egress.ErrRefused)
			require.Zero(t, srv.conns.Load())
		})
	}
}

func FuzzCheckAddr(f *testing.F) {
	for _, s := range []string{"::ffff:127.0.0.1", "::ffff:8.8.8.8", "::1", "fe80::1", "2606:4700:4700::1111"} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:])
	}

	var (
		strict = egress.NewPolicy(nil)
		open   = egress.NewPolicy([]netip.Prefix{
			netip.MustParsePrefix("0.0.0.0/0"),
			netip.MustParsePrefix("::/0"),
		})
	)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 16 {
			t.Skip()
		}

		addr := netip.AddrFrom16([16]byte(b))
		err := strict.CheckAddr(addr)
		require.True(t, err == nil || errors.Is(err, egress.ErrRefused), "error %v", err)
		require.NoError(t, open.CheckAddr(addr))

		if addr.Is4In6() {
			unmapped := strict.CheckAddr(addr.Unmap())
			require.Equal(t, unmapped == nil, err == nil, "mapped: %v, unmapped: %v", err, unmapped)
		}
	})
}

func BenchmarkCheckAddr(b *testing.B) {
	benchmarks := []struct {
		name string
		addr string
	}{
		{name: "public IPv4", addr: "8.8.8.8"},
		{name: "public IPv6", addr: "2606:4700:4700::1111"},
		{name: "mapped IPv4", addr: "::ffff:8.8.8.8"},
		{name: "refused", addr: "127.0.0.1"},
		{name: "allowed", addr: "10.0.0.1"},
	}
	p := egress.NewPolicy([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	for _, bb := range benchmarks {
		addr := netip.MustParseAddr(bb.addr)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()

			for b.Loop() {
				_ = p.CheckAddr(addr)
			}
		})
	}
}
