package cli_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testdb"
)

func TestEndpointOnANonPublicAddressIsRefused(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		b := setupDelivery(t, db.URL, "HERALD_ALLOWED_NETWORKS=")
		r := newReceiver(t)
		port := r.Listener.Addr().(*net.TCPAddr).Port

		for _, url := range []string{
			fmt.Sprintf("http://127.0.0.1:%d/webhooks", port),
			fmt.Sprintf("http://[::1]:%d/webhooks", port),
			fmt.Sprintf("http://localhost:%d/webhooks", port),
			"http://10.0.0.1/webhooks",
		} {
			res, err := b.api.CreateEndpointWithResponse(t.Context(), b.tenant, client.EndpointInput{Url: url})
			require.NoError(t, err)

			p := requireProblem(t, res.HTTPResponse, res.Body, http.StatusUnprocessableEntity, "url")
			require.Contains(t, p.Detail, "HERALD_ALLOWED_NETWORKS", url)
		}

		list, err := b.api.ListEndpointsWithResponse(t.Context(), b.tenant, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, list.StatusCode())
		require.Empty(t, list.JSON200.Data)
		require.Empty(t, r.received())
	})
}

func TestDeliveryToANameOfALoopbackAddressIsRefused(t *testing.T) {
	t.Parallel()

	name := loopbackName(t)

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		b := setupDelivery(t, db.URL, "HERALD_ALLOWED_NETWORKS=")
		r := newReceiver(t)
		port := r.Listener.Addr().(*net.TCPAddr).Port

		// A name is accepted when registered: only what it resolves to when
		// dialed counts.
		url := "http://" + net.JoinHostPort(name, strconv.Itoa(port)) + "/webhooks"
		ep := b.endpoint(t, r, client.EndpointInput{Url: url})
		published := b.publish(t, "invoice.paid", `{"n":1}`)
		require.Equal(t, 1, published.EndpointCount)

		d := deliveryTo(t, b.settled(t, published.Id), ep.Id)
		require.Equal(t, client.DeliveryStatusFailed, d.Status)

		failed := b.failedAttempts(t, ep.Id)
		require.NotEmpty(t, failed)

		for _, a := range failed {
			require.Nil(t, a.StatusCode, "no answer, since nothing was sent")
			require.NotNil(t, a.Error)
			require.Contains(t, *a.Error, "destination refused")
		}

		require.Empty(t, r.received())
	})
}

// loopbackName returns a name other than localhost that /etc/hosts maps to
// loopback addresses only, or skips the test when there is none.
func loopbackName(t *testing.T) string {
	t.Helper()

	f, err := os.Open("/etc/hosts")
	if err != nil {
		t.Skipf("no /etc/hosts: %v", err)
	}
	defer f.Close()

	lines := bufio.NewScanner(f)
	for lines.Scan() {
		line, _, _ := strings.Cut(lines.Text(), "#")

		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}

		addr, err := netip.ParseAddr(fields[0])
		if err != nil || !addr.IsLoopback() {
			continue
		}

		for _, name := range fields[1:] {
			if resolvesToLoopbackOnly(t, name) {
				return name
			}
		}
	}

	t.Skip("no name in /etc/hosts other than localhost resolves to a loopback address")

	return ""
}

func resolvesToLoopbackOnly(t *testing.T, name string) bool {
	t.Helper()

	lower := strings.ToLower(strings.TrimSuffix(name, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return false
	}

	addrs, err := net.DefaultResolver.LookupNetIP(t.Context(), "ip", name)
	if err != nil || len(addrs) == 0 {
		return false
	}

	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return false
		}
	}

	return true
}

func TestPublishRules(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		b := setupDelivery(t, db.URL, "HERALD_MAX_PAYLOAD_BYTES=2048")

		// paddedTo returns a JSON object of exactly n bytes.
		paddedTo := func(n int) string {
			return `{"pad":"` + strings.Repeat("x", n-len(`{"pad":""}`)) + `"}`
		}

		// The tenant has no endpoint: a message goes nowhere, and the largest
		// payload allowed is fine.
		published := b.publish(t, "invoice.paid", paddedTo(2048))
		require.Zero(t, published.EndpointCount)

		for _, tt := range []struct {
			name   string
			tenant string
			body   string
			status int
			field  string
		}{
			{"array payload", "", `{"event_type":"invoice.paid","payload":[1,2]}`, 422, "payload"},
			{"string payload", "", `{"event_type":"invoice.paid","payload":"paid"}`, 422, "payload"},
			{"null payload", "", `{"event_type":"invoice.paid","payload":null}`, 422, "payload"},
			{"no payload", "", `{"event_type":"invoice.paid"}`, 422, "payload"},
			{"no event type", "", `{"payload":{}}`, 422, "event_type"},
			{"bad event type", "", `{"event_type":"a..b","payload":{}}`, 422, "event_type"},
			{"payload over the limit", "", `{"event_type":"invoice.paid","payload":` + paddedTo(2049) + `}`, 413, ""},
			{"body far over the limit", "", `{"event_type":"invoice.paid","payload":` + paddedTo(64<<10) + `}`, 413, ""},
			{"unknown field", "", `{"event_type":"invoice.paid","payload":{},"priority":1}`, 400, "priority"},
			{"unknown tenant", "nobody", `{"event_type":"invoice.paid","payload":{}}`, 404, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				tenant := b.tenant
				if tt.tenant != "" {
					tenant = tt.tenant
				}

				res, err := b.api.PublishMessageWithBodyWithResponse(t.Context(), tenant, "application/json",
					strings.NewReader(tt.body))
				require.NoError(t, err)
				requireProblem(t, res.HTTPResponse, res.Body, tt.status, tt.field)
			})
		}
	})
}
