package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/heraldhq/herald/client"
)

// requestTimeout bounds every HTTP request the benchmark makes.
const requestTimeout = 30 * time.Second

// errNotLoopback refuses traffic to anything but this machine.
var errNotLoopback = errors.New("the benchmark talks only to loopback addresses")

// newHTTPClient returns an HTTP client that keeps up to conns connections
// alive and dials loopback addresses only.
func newHTTPClient(conns int) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !ap.Addr().IsLoopback() {
				return fmt.Errorf("dial %s: %w", address, errNotLoopback)
			}

			return nil
		},
	}

	transport, _ := http.DefaultTransport.(*http.Transport)
	transport = transport.Clone()
	transport.Proxy = nil
	transport.DialContext = dialer.DialContext
	transport.MaxIdleConns = conns
	transport.MaxIdleConnsPerHost = conns

	return &http.Client{Transport: transport, Timeout: requestTimeout}
}

// checkLoopback fails unless raw is a URL whose host is a loopback address
// or localhost. An empty host, as of a Unix socket, passes.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err //nolint:wrapcheck // the caller names the URL
	}

	host := u.Hostname()
	if host == "" || host == "localhost" {
		return nil
	}

	if addr, err := netip.ParseAddr(host); err == nil && addr.IsLoopback() {
		return nil
	}

	return fmt.Errorf("host %q: %w", host, errNotLoopback)
}

// newAPIClient returns a client of the Herald API at base that sends key,
// on top of hc.
func newAPIClient(base, key string, hc *http.Client) (*client.ClientWithResponses, error) {
	c, err := client.NewClientWithResponses(base,
		client.WithHTTPClient(hc),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("api client: %w", err)
	}

	return c, nil
}

// createTenant makes the tenant id.
func createTenant(ctx context.Context, c *client.ClientWithResponses, id string) error {
	res, err := c.PutTenantWithResponse(ctx, id, client.TenantInput{})
	if err != nil {
		return fmt.Errorf("put tenant: %w", err)
	}

	if code := res.StatusCode(); code != http.StatusOK && code != http.StatusCreated {
		return fmt.Errorf("put tenant: %s: %s", res.Status(), res.Body)
	}

	return nil
}

// createEndpoint registers target as an endpoint of tenant and returns its
// id and signing secret, read back from the API.
func createEndpoint(
	ctx context.Context, c *client.ClientWithResponses, tenant, target string,
) (id, secret string, err error) {
	ep, err := c.CreateEndpointWithResponse(ctx, tenant, client.EndpointInput{Url: target})
	if err != nil {
		return "", "", fmt.Errorf("create endpoint: %w", err)
	}

	if ep.JSON201 == nil {
		return "", "", fmt.Errorf("create endpoint: %s: %s", ep.Status(), ep.Body)
	}

	s, err := c.GetEndpointSecretWithResponse(ctx, tenant, ep.JSON201.Id)
	if err != nil {
		return "", "", fmt.Errorf("get secret: %w", err)
	}

	if s.JSON200 == nil {
		return "", "", fmt.Errorf("get secret: %s: %s", s.Status(), s.Body)
	}

	return ep.JSON201.Id, s.JSON200.Key, nil
}

// deleteEndpoint removes an endpoint, and with it its pending deliveries.
func deleteEndpoint(ctx context.Context, c *client.ClientWithResponses, tenant, id string) error {
	res, err := c.DeleteEndpointWithResponse(ctx, tenant, id)
	if err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}

	if res.StatusCode() != http.StatusNoContent {
		return fmt.Errorf("delete endpoint: %s: %s", res.Status(), res.Body)
	}

	return nil
}
