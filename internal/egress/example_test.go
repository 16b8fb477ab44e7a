package egress_test

import (
	"fmt"
	"net/netip"

	"github.com/heraldhq/herald/internal/egress"
)

func ExamplePolicy_CheckAddr() {
	allowed, err := egress.ParseNetworks("10.20.0.0/16")
	if err != nil {
		panic(err)
	}

	p := egress.NewPolicy(allowed)
	for _, s := range []string{"93.184.215.14", "10.20.0.7", "10.30.0.7", "::ffff:127.0.0.1"} {
		fmt.Println(p.CheckAddr(netip.MustParseAddr(s)))
	}
	// Output:
	// <nil>
	// <nil>
	// egress: destination refused: 10.30.0.7 is in the private range 10.0.0.0/8; to allow it, add its network to HERALD_ALLOWED_NETWORKS
	// egress: destination refused: ::ffff:127.0.0.1 is in the loopback range 127.0.0.0/8; to allow it, add its network to HERALD_ALLOWED_NETWORKS
}
