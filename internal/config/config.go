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
	"os"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// prefix starts the name of every variable Herald reads.
const prefix = "HERALD_"

// Config is Herald's configuration, one field per environment variable.
type Config struct {
	// DatabaseURL is the Postgres connection URL, with the postgres:// or
	// postgresql:// scheme, from HERALD_DATABASE_URL. It is required. Its
	// password is masked when the config is logged.
	DatabaseURL string `env:"DATABASE_URL,required,notEmpty"`

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
	// from HERALD_DATABASE_MAX_CONNS. It must not be negative. Defaults to
	// 0, which leaves the limit to the driver.
	DatabaseMaxConns int32 `env:"DATABASE_MAX_CONNS" envDefault:"0"`
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
