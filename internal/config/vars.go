package config

import (
	"reflect"
	"strings"
)

// Var documents one environment variable read into [Config].
type Var struct {
	// Name is the variable's name, such as HERALD_ADDR.
	Name string

	// Default is the value used when the variable is unset or empty. It is
	// empty when there is no default.
	Default string

	// Description says in one line what the variable sets.
	Description string

	// Secret reports whether the value must never be shown.
	Secret bool
}

// descriptions holds the one-line description of each variable for
// [Vars]. A test checks that it covers every field of [Config] and no
// more.
var descriptions = map[string]string{
	"HERALD_DATABASE_URL":         "Database: postgres://... for PostgreSQL, or sqlite://PATH for a SQLite file.",
	"HERALD_ADDR":                 "Address the API listens on, as host:port.",
	"HERALD_API_KEY":              "Admin API key, at least 16 characters.",
	"HERALD_LOG_LEVEL":            "Lowest level logged: debug, info, warn or error.",
	"HERALD_LOG_FORMAT":           "Log output format: json or text.",
	"HERALD_AUTO_MIGRATE":         "Apply database migrations at start (serve, api, worker).",
	"HERALD_SHUTDOWN_TIMEOUT":     "How long shutdown waits for work in flight.",
	"HERALD_DATABASE_MAX_CONNS":   "Most database connections per process; 0 lets the driver choose.",
	"HERALD_MAX_PAYLOAD_BYTES":    "Largest payload a message may have, in bytes.",
	"HERALD_RETRY_SCHEDULE":       "Wait before each retry of a failed delivery, comma-separated.",
	"HERALD_DELIVERY_TIMEOUT":     "Time limit of one delivery attempt.",
	"HERALD_ALLOWED_NETWORKS":     "Non-public networks webhooks may reach, as comma-separated CIDRs.",
	"HERALD_WORKERS":              "Deliveries one worker process makes at once.",
	"HERALD_ENDPOINT_CONCURRENCY": "Deliveries in flight to one endpoint from one worker process.",
	"HERALD_BREAKER_FAILURES":     "Consecutive failed attempts that open an endpoint's breaker.",
	"HERALD_BREAKER_COOLDOWN":     "How long an open breaker holds an endpoint's deliveries.",
}

// Vars returns the documentation of every variable, in the order of the
// fields of [Config]. Names and defaults come from the struct tags that
// [Parse] reads, so help output built from Vars cannot drift from them.
func Vars() []Var {
	var vars []Var
	for f := range reflect.TypeFor[Config]().Fields() {
		name := fieldVar(f.Name)
		vars = append(vars, Var{
			Name:        name,
			Default:     f.Tag.Get("envDefault"),
			Description: descriptions[name],
			Secret:      f.Tag.Get("secret") == "true",
		})
	}
	return vars
}

// fieldVar returns the name of the variable read into the named field of
// [Config].
func fieldVar(field string) string {
	f, _ := reflect.TypeFor[Config]().FieldByName(field)
	key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return prefix + key
}
