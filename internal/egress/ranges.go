package egress

import "net/netip"

// The kinds of special range, as named in refusals.
const (
	kindUnspecified   = "unspecified"
	kindLoopback      = "loopback"
	kindPrivate       = "private"
	kindShared        = "shared (CGNAT)"
	kindLinkLocal     = "link-local"
	kindMulticast     = "multicast"
	kindBroadcast     = "broadcast"
	kindReserved      = "reserved"
	kindDocumentation = "documentation"
	kindBenchmarking  = "benchmarking"
	kindProtocol      = "IETF protocol assignments"
	kindNAT64         = "NAT64"
	kindSixToFour     = "6to4"
	kindTeredo        = "Teredo"
	kindDiscard       = "discard-only"
)

// specialRange is a block of addresses that is not public unicast space,
// named by what it is for.
type specialRange struct {
	prefix netip.Prefix
	kind   string
}

// special4 lists the IPv4 blocks Herald refuses to dial. The first block
// containing an address names it, so a narrow block precedes any block
// holding it.
var special4 = []specialRange{
	{netip.MustParsePrefix("0.0.0.0/8"), kindUnspecified},
	{netip.MustParsePrefix("127.0.0.0/8"), kindLoopback},
	{netip.MustParsePrefix("10.0.0.0/8"), kindPrivate},
	{netip.MustParsePrefix("172.16.0.0/12"), kindPrivate},
	{netip.MustParsePrefix("192.168.0.0/16"), kindPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), kindShared},
	{netip.MustParsePrefix("169.254.0.0/16"), kindLinkLocal},
	{netip.MustParsePrefix("224.0.0.0/4"), kindMulticast},
	{netip.MustParsePrefix("255.255.255.255/32"), kindBroadcast},
	{netip.MustParsePrefix("240.0.0.0/4"), kindReserved},
	{netip.MustParsePrefix("192.0.2.0/24"), kindDocumentation},
	{netip.MustParsePrefix("198.51.100.0/24"), kindDocumentation},
	{netip.MustParsePrefix("203.0.113.0/24"), kindDocumentation},
	{netip.MustParsePrefix("198.18.0.0/15"), kindBenchmarking},
	{netip.MustParsePrefix("192.0.0.0/24"), kindProtocol},
}

// special6 lists the IPv6 blocks Herald refuses to dial, in the same order
// of precedence as special4. NAT64, 6to4 and Teredo addresses lead into
// IPv4 space, where the address embedded in them may be private. The last
// three blocks cover everything outside global unicast space, 2000::/3,
// which also takes in blocks assigned after this table was written.
var special6 = []specialRange{
	{netip.MustParsePrefix("::/128"), kindUnspecified},
	{netip.MustParsePrefix("::1/128"), kindLoopback},
	{netip.MustParsePrefix("fc00::/7"), kindPrivate},
	{netip.MustParsePrefix("fe80::/10"), kindLinkLocal},
	{netip.MustParsePrefix("ff00::/8"), kindMulticast},
	{netip.MustParsePrefix("2001:db8::/32"), kindDocumentation},
	{netip.MustParsePrefix("3fff::/20"), kindDocumentation},
	{netip.MustParsePrefix("2001:2::/48"), kindBenchmarking},
	{netip.MustParsePrefix("64:ff9b::/96"), kindNAT64},
	{netip.MustParsePrefix("64:ff9b:1::/48"), kindNAT64},
	{netip.MustParsePrefix("2002::/16"), kindSixToFour},
	{netip.MustParsePrefix("2001::/32"), kindTeredo},
	{netip.MustParsePrefix("100::/64"), kindDiscard},
	{netip.MustParsePrefix("::/3"), kindReserved},
	{netip.MustParsePrefix("4000::/2"), kindReserved},
	{netip.MustParsePrefix("8000::/1"), kindReserved},
}

// lookupSpecial returns the first special block holding a, which must be
// unmapped and carry no zone, and whether there is one.
func lookupSpecial(a netip.Addr) (specialRange, bool) {
	table := special6
	if a.Is4() {
		table = special4
	}

	for _, r := range table {
		if r.prefix.Contains(a) {
			return r, true
		}
	}

	return specialRange{}, false
}
