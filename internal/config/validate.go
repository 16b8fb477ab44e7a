package config

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/caarlos0/env/v11"

	"github.com/heraldhq/herald/internal/egress"
)

const minAPIKeyLen = 16

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"json", "text"}
)

// problems holds at most one error per variable, keyed by its name. A
// variable that failed to parse is not validated further.
type problems map[string]error

// addParseErrors files each error from the env package under the variable
// it is about, worded with the variable's name. raw maps each variable to
// the text it was parsed from. It returns the errors about no variable.
func (p problems) addParseErrors(err error, raw map[string]string) []error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return nil
	}

	var other []error
	for _, err := range agg.Errors {
		parseErr, isParse := errors.AsType[env.ParseError](err)
		notSet, isNotSet := errors.AsType[env.VarIsNotSetError](err)
		empty, isEmpty := errors.AsType[env.EmptyVarError](err)

		switch {
		case isParse:
			name := fieldVar(parseErr.Name)
			p[name] = fmt.Errorf("%s: %w", name, parseFailure(raw[name], parseErr))
		case isNotSet:
			p[notSet.Key] = fmt.Errorf("%s must be set", notSet.Key)
		case isEmpty:
			p[empty.Key] = fmt.Errorf("%s must not be empty", empty.Key)
		default:
			other = append(other, err)
		}
	}
	return other
}

// parseFailure says why raw could not be parsed into the field of err.
func parseFailure(raw string, err env.ParseError) error {
	var (
		num   *strconv.NumError
		value env.ParseValueError
	)
	switch {
	case err.Type == reflect.TypeFor[slog.Level]():
		return notOneOf(raw, logLevels)
	case errors.As(err.Err, &num) && errors.Is(num.Err, strconv.ErrRange):
		return fmt.Errorf("%q is out of range for %s", raw, err.Type)
	case errors.As(err.Err, &num):
		return fmt.Errorf("%q is not a valid %s", raw, err.Type)
	case errors.As(err.Err, &value):
		// Drop the env package's wording, such as "unable to parse
		// duration", which repeats what the inner error says.
		return value.Err
	}
	return err.Err
}

// validate checks the values that their types alone do not constrain.
func (p problems) validate(c Config, raw map[string]string) {
	p.check("HERALD_DATABASE_URL", checkDatabaseURL(c.DatabaseURL))
	p.check("HERALD_ADDR", checkAddr(c.Addr))
	p.check("HERALD_API_KEY", checkAPIKey(c.APIKey))
	p.check("HERALD_LOG_LEVEL", checkLogLevel(raw["HERALD_LOG_LEVEL"]))
	p.check("HERALD_LOG_FORMAT", checkLogFormat(c.LogFormat))
	p.check("HERALD_SHUTDOWN_TIMEOUT", checkShutdownTimeout(c.ShutdownTimeout))
	p.check("HERALD_DATABASE_MAX_CONNS", checkMaxConns(c.DatabaseMaxConns))
	p.check("HERALD_MAX_PAYLOAD_BYTES", checkRange(c.MaxPayloadBytes, 1024, 16<<20))
	p.check("HERALD_DELIVERY_TIMEOUT", checkPositive(c.DeliveryTimeout))
	p.check("HERALD_BREAKER_COOLDOWN", checkPositive(c.BreakerCooldown))
	p.check("HERALD_WORKERS", checkRange(c.Workers, 1, 10000))
	p.check("HERALD_ENDPOINT_CONCURRENCY", checkRange(c.EndpointConcurrency, 1, 10000))
	p.check("HERALD_BREAKER_FAILURES", checkRange(int(c.BreakerFailures), 1, 1000))

	if _, err := egress.ParseNetworks(c.AllowedNetworks); err != nil {
		p.check("HERALD_ALLOWED_NETWORKS", err)
	}
}

// checkRange checks that n is within [lo, hi].
func checkRange(n, lo, hi int) error {
	if n < lo || n > hi {
		return fmt.Errorf("%d is not between %d and %d", n, lo, hi)
	}

	return nil
}

// checkPositive checks that a duration is above zero.
func checkPositive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s is not positive", d)
	}

	return nil
}

// check files err under name unless name already has a problem.
func (p problems) check(name string, err error) {
	if err != nil && p[name] == nil {
		p[name] = fmt.Errorf("%s: %w", name, err)
	}
}

// inOrder returns the problems in the order of [Vars].
func (p problems) inOrder() []error {
	errs := make([]error, 0, len(p))
	for _, v := range Vars() {
		if err := p[v.Name]; err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// testPrefix starts the variables of Herald's own test suite, such as
// HERALD_TEST_DATABASE_URL, which Herald itself never reads.
const testPrefix = prefix + "TEST_"

// unknownVars reports each HERALD_* variable in environ that Herald does
// not read, sorted by name.
func unknownVars(environ map[string]string) []error {
	known := make(map[string]bool)
	for _, v := range Vars() {
		known[v.Name] = true
	}

	var errs []error
	for _, name := range slices.Sorted(maps.Keys(environ)) {
		if strings.HasPrefix(name, prefix) && !strings.HasPrefix(name, testPrefix) && !known[name] {
			errs = append(errs, fmt.Errorf("%s is not a known variable", name))
		}
	}
	return errs
}

// checkDatabaseURL checks that s is a PostgreSQL URL or names a SQLite
// file. Its errors never quote s, which may hold a password.
func checkDatabaseURL(s string) error {
	if path, ok := strings.CutPrefix(s, sqliteScheme); ok {
		if path == "" || strings.HasPrefix(path, "?") {
			return errors.New("sqlite:// must be followed by the path of the database file")
		}

		return nil
	}

	u, err := url.Parse(s)
	if err != nil {
		if urlErr, ok := errors.AsType[*url.Error](err); ok {
			err = urlErr.Err
		}
		return fmt.Errorf("not a valid URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q is not postgres, postgresql or sqlite", u.Scheme)
	}
	return nil
}

func checkAddr(s string) error {
	_, _, err := net.SplitHostPort(s)
	return err
}

// checkAPIKey checks the key's length. Its errors never quote the key.
func checkAPIKey(s string) error {
	if s != "" && utf8.RuneCountInString(s) < minAPIKeyLen {
		return fmt.Errorf("must be at least %d characters", minAPIKeyLen)
	}
	return nil
}

// checkLogLevel checks the raw level text, since [slog.Level] also
// accepts offsets such as "debug+2".
func checkLogLevel(raw string) error {
	if !slices.Contains(logLevels, strings.ToLower(raw)) {
		return notOneOf(raw, logLevels)
	}
	return nil
}

func checkLogFormat(s string) error {
	if !slices.Contains(logFormats, s) {
		return notOneOf(s, logFormats)
	}
	return nil
}

func checkShutdownTimeout(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("must be positive, got %s", d)
	}
	return nil
}

func checkMaxConns(n int32) error {
	if n < 0 {
		return fmt.Errorf("must not be negative, got %d", n)
	}
	return nil
}

func notOneOf(s string, allowed []string) error {
	return fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, ", "))
}
