package bench

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// isolationTimeout is HERALD_DELIVERY_TIMEOUT in the isolation runs: how
// long a hanging endpoint holds each of Herald's attempts.
const isolationTimeout = "2s"

// spec is one measured run: a fresh Herald, a tenant with its endpoints,
// messages published to all of them.
type spec struct {
	// name is the run's name in the report; empty means the scenario's.
	name string

	// scenario is the scenario the run belongs to.
	scenario string

	messages int

	// endpoints answer at once; hanging endpoints hold every request until
	// Herald gives up on it.
	endpoints int
	hanging   int

	// rate is the publish target in messages per second; 0 is as fast as
	// possible.
	rate float64

	// sqlite runs on a fresh SQLite file whatever Options.Database says.
	sqlite bool

	// env holds more HERALD_* variables for the Herald of the run.
	env []string
}

// scenario is a named workload of one or more runs.
type scenario struct {
	name string
	runs []spec
}

// scenarios lists each scenario's runs at full size, in the order "all"
// runs them.
var scenarios = []scenario{
	{"burst", []spec{{messages: 20000, endpoints: 1}}},
	{"fanout", []spec{{messages: 2000, endpoints: 10}}},
	{"paced", []spec{{messages: 2000, endpoints: 1, rate: 100}}},
	{"isolation", []spec{
		{
			name: "isolation-control", messages: 2000, endpoints: 10,
			env: []string{"HERALD_DELIVERY_TIMEOUT=" + isolationTimeout},
		},
		{
			name: "isolation", messages: 2000, endpoints: 10, hanging: 2,
			env: []string{"HERALD_DELIVERY_TIMEOUT=" + isolationTimeout},
		},
	}},
	{"sqlite-burst", []spec{{messages: 20000, endpoints: 1, sqlite: true}}},
}

// ErrUnknownScenario is returned for a scenario name that does not exist.
var ErrUnknownScenario = errors.New("bench: unknown scenario")

// ScenarioNames returns the name of every scenario, in the order "all" runs
// them.
func ScenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}

	return names
}

// plan returns the runs of the named scenarios, or of all of them for
// "all", with the overrides and scale of opts applied.
func plan(names []string, opts Options) ([]spec, error) {
	if slices.Contains(names, "all") {
		names = ScenarioNames()
	}

	var runs []spec

	for _, name := range names {
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w %q (want all or %s)",
				ErrUnknownScenario, name, strings.Join(ScenarioNames(), ", "))
		}

		for _, s := range scenarios[i].runs {
			s.scenario = name
			if s.name == "" {
				s.name = name
			}

			runs = append(runs, opts.apply(s))
		}
	}

	return runs, nil
}

// apply sets the message count and rate of s from o: Messages as given,
// else the scenario's count times Scale.
func (o Options) apply(s spec) spec {
	s.messages = max(1, int(math.Round(float64(s.messages)*o.Scale)))
	if o.Messages > 0 {
		s.messages = o.Messages
	}

	if o.Rate != nil {
		s.rate = *o.Rate
	}

	return s
}
