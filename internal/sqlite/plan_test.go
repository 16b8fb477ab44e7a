package sqlite_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/sqlite"
)

// plan returns SQLite's plan of query with args, one step a line.
func (b *testBundle) plan(t *testing.T, query string, args ...any) string {
	t.Helper()

	rows, err := b.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)

	defer rows.Close()

	var steps []string

	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)

		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))

		steps = append(steps, detail)
	}

	require.NoError(t, rows.Err())

	return strings.Join(steps, "\n")
}

// TestSearchPlans checks that the searches support runs read the index
// made for them, and never scan a table: failed attempts from the partial
// index, which SQLite uses only when the query repeats its condition, and
// deliveries from the index of their filter, in the order of the listing.
func TestSearchPlans(t *testing.T) {
	t.Parallel()

	var (
		b     = setup(t)
		no    = false
		since = time.Now().Add(-time.Hour)
		until = time.Now()
	)

	attempts := []messages.AttemptFilter{
		{Succeeded: &no},
		{Succeeded: &no, EventType: "invoice.paid", Since: since, Until: until},
	}

	for _, f := range attempts {
		query, args := sqlite.EndpointAttemptsQuery(acme, "ep", f, "atm_01jbq6q6ffe5x9qf2a8n1c3m4z")
		plan := b.plan(t, query, append(args, 10)...)
		require.Contains(t, plan, "USING INDEX attempts_endpoint_id_failed_idx (endpoint_id=?", plan)
		require.NotContains(t, plan, "SCAN a", plan)
	}

	before := messages.DeliveryKey{MessageID: "msg_01jbq6q6ffe5x9qf2a8n1c3m4z", EndpointID: "ep"}

	deliveries := []struct {
		index string
		f     messages.DeliveryFilter
	}{
		{
			index: "deliveries_tenant_id_status_message_id_idx (tenant_id=? AND status=? AND message_id>?",
			f:     messages.DeliveryFilter{Status: messages.StatusFailed, EventType: "a.b", Since: since, Until: until},
		},
		{
			index: "deliveries_endpoint_id_status_message_id_idx (endpoint_id=? AND status=? AND message_id>?",
			f:     messages.DeliveryFilter{Status: messages.StatusFailed, EndpointID: "ep", Since: since},
		},
		{
			index: "deliveries_tenant_id_message_id_idx (tenant_id=? AND message_id>? AND message_id<?",
			f:     messages.DeliveryFilter{EventType: "a.b", Since: since, Until: until},
		},
	}

	for _, tt := range deliveries {
		query, args := sqlite.DeliveriesQuery(acme, tt.f, before)
		plan := b.plan(t, query, append(args, 10)...)
		require.Contains(t, plan, "INDEX "+tt.index, plan)
		require.NotContains(t, plan, "TEMP B-TREE", plan)
	}
}
