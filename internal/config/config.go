// Package config reads Herald's configuration from HERALD_* environment
// variables into a [Config].
//
// Every variable is a field of [Config] whose doc comment names it, gives
// its default and says what it means; [Vars] lists the same variables for
// help output and the README. A variable set to the empty string counts as
// unset. An unknown HERALD_* variable is an error, so that a misspelled name
// is not silently ignored.
package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/retry"
)

// prefix starts the name of every variable Herald reads.
const prefix = "HERALD_"

// Config is Herald's configuration, one field per environment variable.
type Config struct {
	// DatabaseURL picks the database, from HERALD_DATABASE_URL: a
	// postgres:// or postgresql:// URL for PostgreSQL, or sqlite://PATH for
	// a SQLite file at PATH. Defaults to "sqlite://herald.db", a file in the
	// working directory. Its password is masked when the config is logged.
	DatabaseURL string `env:"DATABASE_URL" envDefault:"sqlite://herald.db"`

	// Addr is the host:port the API listens on, from HERALD_ADDR.
	// Defaults to "127.0.0.1:8080".
	Addr string `env:"ADDR" envDefault:"127.0.0.1:8080"`

	// APIKey is the admin API key, from HERALD_API_KEY. Empty means unset.
	// When set it must be at least 16 characters. It is a secret: logging
	// the config shows only whether it is set.
	APIKey string `env:"API_KEY" secret:"true"`

	// LogLevel is the lowest level logged, from HERALD_LOG_LEVEL: debug,
	// info, warn or error, in any case. Defaults to info.
	LogLevel slog.Level `env:"LOG_LEVEL" envDefault:"info"`

	// LogFormat is the log output format, "json" or "text", from
	// HERALD_LOG_FORMAT. Defaults to "text".
	LogFormat string `env:"LOG_FORMAT" envDefault:"text"`

	// AutoMigrate is whether serve, api and worker apply database
	// migrations when they start, from HERALD_AUTO_MIGRATE. Defaults to
	// true.
	AutoMigrate bool `env:"AUTO_MIGRATE" envDefault:"true"`

	// ShutdownTimeout is how long a stopping process waits for work in
	// flight, from HERALD_SHUTDOWN_TIMEOUT. It must be positive. Defaults
	// to 30s.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`

	// DatabaseMaxConns is the most database connections a process opens,
	// from HERALD_DATABASE_MAX_CONNS. It must not be negative; 0 leaves the
	// limit to the driver (pgx: the number of CPUs, at least 4), which is
	// too few for River and a busy API together. Defaults to 16.
	DatabaseMaxConns int32 `env:"DATABASE_MAX_CONNS" envDefault:"16"`

	// MaxPayloadBytes bounds the payload of a published message, from
	// HERALD_MAX_PAYLOAD_BYTES; a larger one answers 413. Defaults to
	// 262144 (256 KiB).
	MaxPayloadBytes int `env:"MAX_PAYLOAD_BYTES" envDefault:"262144"`

	// RetrySchedule is the wait before each retry of a failed delivery,
	// from HERALD_RETRY_SCHEDULE, as comma-separated durations; the first
	// attempt is immediate. Defaults to about three days of retries.
	RetrySchedule retry.Schedule `env:"RETRY_SCHEDULE" envDefault:"5s,5m,30m,2h,5h,10h,14h,20h,24h"`

	// DeliveryTimeout bounds one delivery attempt, from
	// HERALD_DELIVERY_TIMEOUT. Defaults to 15s.
	DeliveryTimeout time.Duration `env:"DELIVERY_TIMEOUT" envDefault:"15s"`

	// AllowedNetworks lists the CIDR prefixes that webhooks may reach
	// although they are not public (loopback, private, link-local...), from
	// HERALD_ALLOWED_NETWORKS, comma-separated. Defaults to none.
	AllowedNetworks string `env:"ALLOWED_NETWORKS"`

	// Workers is how many deliveries one worker process makes at once, from
	// HERALD_WORKERS. Defaults to 100.
	Workers int `env:"WORKERS" envDefault:"100"`

	// EndpointConcurrency bounds the deliveries in flight to one endpoint
	// from one worker process, from HERALD_ENDPOINT_CONCURRENCY, so that a
	// slow endpoint cannot take every worker. Defaults to 16.
	EndpointConcurrency int `env:"ENDPOINT_CONCURRENCY" envDefault:"16"`

	// BreakerFailures is how many consecutive failed attempts open an
	// endpoint's circuit breaker, from HERALD_BREAKER_FAILURES. Defaults to 5.
	BreakerFailures uint32 `env:"BREAKER_FAILURES" envDefault:"5"`

	// BreakerCooldown is how long an open breaker holds an endpoint's
	// deliveries before a probe, from HERALD_BREAKER_COOLDOWN. Defaults to
	// 30s.
	BreakerCooldown time.Duration `env:"BREAKER_COOLDOWN" envDefault:"30s"`
}

// SQLitePath returns the file that a sqlite:// DatabaseURL names, and
// false when DatabaseURL is a PostgreSQL URL.
func (c Config) SQLitePath() (string, bool) {
	path, ok := strings.CutPrefix(c.DatabaseURL, sqliteScheme)
	if !ok {
		return "", false
	}

	path, _, _ = strings.Cut(path, "?")

	return path, true
}

// sqliteScheme starts a DatabaseURL naming a SQLite file.
const sqliteScheme = "sqlite://"

// Networks returns AllowedNetworks parsed; Parse has checked it.
func (c Config) Networks() []netip.Prefix {
	networks, _ := egress.ParseNetworks(c.AllowedNetworks)
	return networks
}

// Load reads the configuration from the process environment. It is
// [Parse] over [os.Environ].
func Load() (Config, error) {
	environ := make(map[string]string)
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		environ[name] = value
	}
	return Parse(environ)
}

// Parse reads the configuration from environ, a map of variable name to
// value; variables not starting with HERALD_ are ignored. The error lists
// every unknown or invalid variable, one per line, each by name.
func Parse(environ map[string]string) (Config, error) {
	if environ == nil {
		// The env package reads the process environment when given none.
		environ = map[string]string{}
	}

	var (
		raw  = make(map[string]string)
		opts = env.Options{
			Environment: environ,
			Prefix:      prefix,
			OnSet: func(name string, value any, _ bool) {
				raw[name], _ = value.(string)
			},
		}
	)
	cfg, err := env.ParseAsWithOptions[Config](opts)

	var (
		errs = unknownVars(environ)
		p    = make(problems)
	)
	errs = append(errs, p.addParseErrors(err, raw)...)
	p.validate(cfg, raw)
	errs = append(errs, p.inOrder()...)

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
