package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlan(t *testing.T) {
	t.Parallel()

	zero, fifty := 0.0, 50.0

	tests := []struct {
		name  string
		names []string
		opts  Options
		want  []spec
	}{
		{
			name:  "full size",
			names: []string{"burst", "paced"},
			opts:  Options{Scale: 1},
			want: []spec{
				{name: "burst", scenario: "burst", messages: 20000, endpoints: 1},
				{name: "paced", scenario: "paced", messages: 2000, endpoints: 1, rate: 100},
			},
		},
		{
			name:  "scaled, never below one message",
			names: []string{"burst", "fanout"},
			opts:  Options{Scale: 0.0001},
			want: []spec{
				{name: "burst", scenario: "burst", messages: 2, endpoints: 1},
				{name: "fanout", scenario: "fanout", messages: 1, endpoints: 10},
			},
		},
		{
			name:  "messages and rate replace the scenario's",
			names: []string{"paced", "burst"},
			opts:  Options{Scale: 0.5, Messages: 300, Rate: &zero},
			want: []spec{
				{name: "paced", scenario: "paced", messages: 300, endpoints: 1},
				{name: "burst", scenario: "burst", messages: 300, endpoints: 1},
			},
		},
		{
			name:  "isolation is two runs",
			names: []string{"isolation"},
			opts:  Options{Scale: 1, Rate: &fifty},
			want: []spec{
				{
					name: "isolation-control", scenario: "isolation", messages: 2000, endpoints: 10, rate: 50,
					env: []string{"HERALD_DELIVERY_TIMEOUT=2s"},
				},
				{
					name: "isolation", scenario: "isolation", messages: 2000, endpoints: 10, hanging: 2, rate: 50,
					env: []string{"HERALD_DELIVERY_TIMEOUT=2s"},
				},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := plan(tt.names, tt.opts)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestPlanAll(t *testing.T) {
	t.Parallel()

	got, err := plan([]string{"all"}, Options{Scale: 1})
	require.NoError(t, err)

	names := make([]string, len(got))
	for i, s := range got {
		names[i] = s.name
	}

	require.Equal(t, []string{"burst", "fanout", "paced", "isolation-control", "isolation", "sqlite-burst"}, names)
}

func TestPlanRejectsUnknownScenario(t *testing.T) {
	t.Parallel()

	_, err := plan([]string{"burst", "soak"}, Options{Scale: 1})
	require.ErrorIs(t, err, ErrUnknownScenario)
	require.EqualError(t, err, `bench: unknown scenario "soak" (want all or burst, fanout, paced, isolation, sqlite-burst)`)
}
