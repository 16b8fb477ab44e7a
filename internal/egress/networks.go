package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ParseNetworks parses a comma-separated list of CIDR prefixes, such as
// "10.0.0.0/8, fd00::/8", as found in HERALD_ALLOWED_NETWORKS. Spaces
// around an item are ignored, and an empty or blank string means no
// networks. A bare IP address stands for itself alone: a /32 or a /128.
// Host bits set in a prefix are cleared, so "10.1.2.3/8" reads as
// 10.0.0.0/8. An empty item, as left by a trailing comma, is an error;
// errors give the position and text of the item that could not be parsed.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}

	items := strings.Split(s, ",")
	prefixes := make([]netip.Prefix, 0, len(items))

	for i, item := range items {
		item = strings.TrimSpace(item)

		p, err := parseNetwork(item)
		if err != nil {
			return nil, fmt.Errorf("network %d %q: %w", i+1, item, err)
		}

		prefixes = append(prefixes, p)
	}

	return prefixes, nil
}

// parseNetwork parses one item of a list given to ParseNetworks.
func parseNetwork(item string) (netip.Prefix, error) {
	if item == "" {
		return netip.Prefix{}, errors.New("empty item")
	}

	if strings.Contains(item, "/") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, err
		}

		return p.Masked(), nil
	}

	a, err := netip.ParseAddr(item)
	if err != nil {
		return netip.Prefix{}, err
	}

	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("zone not allowed")
	}

	return netip.PrefixFrom(a, a.BitLen()), nil
}
