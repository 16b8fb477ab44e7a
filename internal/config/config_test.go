package config

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/retry"
)

const (
	testPassword = "s3cret-pw"
	testURL      = "postgres://herald:" + testPassword + "@db:5432/herald"
	testAPIKey   = "k3y-0123456789abcdef"
)

// validEnv returns a valid environment with the given variables added or
// replaced.
func validEnv(vars map[string]string) map[string]string {
	e := map[string]string{"HERALD_DATABASE_URL": testURL}
	maps.Copy(e, vars)
	return e
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()

	cfg, err := Parse(validEnv(nil))
	require.NoError(t, err)
	require.Equal(t, Config{
		DatabaseURL:         testURL,
		Addr:                "127.0.0.1:8080",
		LogLevel:            slog.LevelInfo,
		LogFormat:           "text",
		AutoMigrate:         true,
		ShutdownTimeout:     30 * time.Second,
		DatabaseMaxConns:    16,
		MaxPayloadBytes:     256 << 10,
		RetrySchedule:       retry.DefaultSchedule,
		DeliveryTimeout:     15 * time.Second,
		Workers:             100,
		EndpointConcurrency: 16,
		BreakerFailures:     5,
		BreakerCooldown:     30 * time.Second,
	}, cfg)
	require.Empty(t, cfg.Networks())
}

func TestParseEmptyMeansDefault(t *testing.T) {
	t.Parallel()

	cfg, err := Parse(validEnv(map[string]string{
		"HERALD_ADDR":             "",
		"HERALD_API_KEY":          "",
		"HERALD_AUTO_MIGRATE":     "",
		"HERALD_SHUTDOWN_TIMEOUT": "",
	}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.Addr)
	require.Empty(t, cfg.APIKey)
	require.True(t, cfg.AutoMigrate)
	require.Equal(t, 30*time.Second, cfg.ShutdownTimeout)
}

func TestParseEveryVariable(t *testing.T) {
	t.Parallel()

	cfg, err := Parse(map[string]string{
		"HERALD_DATABASE_URL":         "postgresql://u:p@localhost/herald?sslmode=disable",
		"HERALD_ADDR":                 ":9090",
		"HERALD_API_KEY":              testAPIKey,
		"HERALD_LOG_LEVEL":            "WARN",
		"HERALD_LOG_FORMAT":           "json",
		"HERALD_AUTO_MIGRATE":         "false",
		"HERALD_SHUTDOWN_TIMEOUT":     "1m30s",
		"HERALD_DATABASE_MAX_CONNS":   "25",
		"HERALD_MAX_PAYLOAD_BYTES":    "4096",
		"HERALD_RETRY_SCHEDULE":       "1s, 2s",
		"HERALD_DELIVERY_TIMEOUT":     "2s",
		"HERALD_ALLOWED_NETWORKS":     "127.0.0.0/8,::1/128",
		"HERALD_WORKERS":              "7",
		"HERALD_ENDPOINT_CONCURRENCY": "3",
		"HERALD_BREAKER_FAILURES":     "2",
		"HERALD_BREAKER_COOLDOWN":     "1s",
		"PATH":                        "/usr/bin",
		"herald_addr":                 "ignored",
	})
	require.NoError(t, err)
	require.Equal(t, Config{
		DatabaseURL:         "postgresql://u:p@localhost/herald?sslmode=disable",
		Addr:                ":9090",
		APIKey:              testAPIKey,
		LogLevel:            slog.LevelWarn,
		LogFormat:           "json",
		AutoMigrate:         false,
		ShutdownTimeout:     90 * time.Second,
		DatabaseMaxConns:    25,
		MaxPayloadBytes:     4096,
		RetrySchedule:       retry.Schedule{time.Second, 2 * time.Second},
		DeliveryTimeout:     2 * time.Second,
		AllowedNetworks:     "127.0.0.0/8,::1/128",
		Workers:             7,
		EndpointConcurrency: 3,
		BreakerFailures:     2,
		BreakerCooldown:     time.Second,
	}, cfg)
	require.Len(t, cfg.Networks(), 2)
}

func TestParseLogLevels(t *testing.T) {
	t.Parallel()

	tests := map[string]slog.Level{
		"debug": slog.LevelDebug,
		"Info":  slog.LevelInfo,
		"WARN":  slog.LevelWarn,
		"error": slog.LevelError,
	}
	for raw, want := range tests {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()

			cfg, err := Parse(validEnv(map[string]string{"HERALD_LOG_LEVEL": raw}))
			require.NoError(t, err)
			require.Equal(t, want, cfg.LogLevel)
		})
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, value, wantErr string
	}{
		{
			"HERALD_DATABASE_URL", "mysql://herald:" + testPassword + "@db/herald",
			`HERALD_DATABASE_URL: scheme "mysql" is not postgres, postgresql or sqlite`,
		},
		{
			"HERALD_DATABASE_URL", "postgres://herald:" + testPassword + "@db:port/herald",
			`HERALD_DATABASE_URL: not a valid URL: invalid port ":port" after host`,
		},
		{
			"HERALD_DATABASE_URL", "db.internal/herald",
			`HERALD_DATABASE_URL: scheme "" is not postgres, postgresql or sqlite`,
		},
		{"HERALD_ADDR", "8080", "HERALD_ADDR: address 8080: missing port in address"},
		{"HERALD_API_KEY", "short", "HERALD_API_KEY: must be at least 16 characters"},
		{
			"HERALD_LOG_LEVEL", "loud",
			`HERALD_LOG_LEVEL: "loud" is not one of debug, info, warn, error`,
		},
		{
			"HERALD_LOG_LEVEL", "debug+2",
			`HERALD_LOG_LEVEL: "debug+2" is not one of debug, info, warn, error`,
		},
		{"HERALD_LOG_FORMAT", "JSON", `HERALD_LOG_FORMAT: "JSON" is not one of json, text`},
		{"HERALD_AUTO_MIGRATE", "maybe", `HERALD_AUTO_MIGRATE: "maybe" is not a valid bool`},
		{
			"HERALD_SHUTDOWN_TIMEOUT", "soon",
			`HERALD_SHUTDOWN_TIMEOUT: time: invalid duration "soon"`,
		},
		{"HERALD_SHUTDOWN_TIMEOUT", "0s", "HERALD_SHUTDOWN_TIMEOUT: must be positive, got 0s"},
		{"HERALD_SHUTDOWN_TIMEOUT", "-5s", "HERALD_SHUTDOWN_TIMEOUT: must be positive, got -5s"},
		{
			"HERALD_DATABASE_MAX_CONNS", "many",
			`HERALD_DATABASE_MAX_CONNS: "many" is not a valid int32`,
		},
		{
			"HERALD_DATABASE_MAX_CONNS", "3000000000",
			`HERALD_DATABASE_MAX_CONNS: "3000000000" is out of range for int32`,
		},
		{
			"HERALD_DATABASE_MAX_CONNS", "-1",
			"HERALD_DATABASE_MAX_CONNS: must not be negative, got -1",
		},
		{"HERALD_MAX_PAYLOAD_BYTES", "10", "HERALD_MAX_PAYLOAD_BYTES: 10 is not between 1024 and 16777216"},
		{
			"HERALD_RETRY_SCHEDULE", "5s,soon",
			`HERALD_RETRY_SCHEDULE: retry schedule: item 2: time: invalid duration "soon"`,
		},
		{"HERALD_DELIVERY_TIMEOUT", "0s", "HERALD_DELIVERY_TIMEOUT: 0s is not positive"},
		{"HERALD_BREAKER_COOLDOWN", "-1s", "HERALD_BREAKER_COOLDOWN: -1s is not positive"},
		{"HERALD_WORKERS", "0", "HERALD_WORKERS: 0 is not between 1 and 10000"},
		{"HERALD_ENDPOINT_CONCURRENCY", "0", "HERALD_ENDPOINT_CONCURRENCY: 0 is not between 1 and 10000"},
		{"HERALD_BREAKER_FAILURES", "0", "HERALD_BREAKER_FAILURES: 0 is not between 1 and 1000"},
		{
			"HERALD_ALLOWED_NETWORKS", "10.0.0.0/8,nope",
			`HERALD_ALLOWED_NETWORKS: network 2 "nope": ParseAddr("nope"): unable to parse IP`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()

			cfg, err := Parse(validEnv(map[string]string{tt.name: tt.value}))
			require.EqualError(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), testPassword)
			require.Zero(t, cfg)
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()

	_, err := Parse(map[string]string{
		"HERALD_SHUTDOWN_TIMEOUT": "soon",
		"HERALD_LOG_LEVEL":        "loud",
		"HERALD_ZZZ":              "1",
		"HERALD_ADRR":             ":80",
	})
	require.EqualError(t, err, strings.Join([]string{
		"HERALD_ADRR is not a known variable",
		"HERALD_ZZZ is not a known variable",
		`HERALD_LOG_LEVEL: "loud" is not one of debug, info, warn, error`,
		`HERALD_SHUTDOWN_TIMEOUT: time: invalid duration "soon"`,
	}, "\n"))
}

func TestParseDatabaseURLDefaultsToSQLite(t *testing.T) {
	t.Parallel()

	cfg, err := Parse(map[string]string{"HERALD_ADDR": ":8080"})
	require.NoError(t, err)
	require.Equal(t, "sqlite://herald.db", cfg.DatabaseURL)

	path, ok := cfg.SQLitePath()
	require.True(t, ok)
	require.Equal(t, "herald.db", path)
}

func TestSQLitePath(t *testing.T) {
	t.Parallel()

	for url, want := range map[string]string{
		"sqlite://herald.db":            "herald.db",
		"sqlite:///var/lib/herald/h.db": "/var/lib/herald/h.db",
		"sqlite://./data/h.db?mode=rwc": "./data/h.db",
		"postgres://u@127.0.0.1/herald": "",
	} {
		cfg, err := Parse(map[string]string{"HERALD_DATABASE_URL": url})
		require.NoError(t, err)

		path, ok := cfg.SQLitePath()
		require.Equal(t, want != "", ok, url)
		require.Equal(t, want, path, url)
	}

	_, err := Parse(map[string]string{"HERALD_DATABASE_URL": "sqlite://"})
	require.EqualError(t, err, "HERALD_DATABASE_URL: sqlite:// must be followed by the path of the database file")
}

func TestParseUnknownVariable(t *testing.T) {
	t.Parallel()

	tests := []string{"HERALD_ADRR", "HERALD_", "HERALD_database_url"}
	for _, name := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			_, err := Parse(validEnv(map[string]string{name: "x"}))
			require.EqualError(t, err, name+" is not a known variable")
		})
	}
}

// TestParseNilIgnoresProcess checks that a nil environ is empty, not the
// process environment, which the env package would read instead.
func TestParseNilIgnoresProcess(t *testing.T) {
	t.Setenv("HERALD_DATABASE_URL", testURL)

	cfg, err := Parse(nil)
	require.NoError(t, err)
	require.Equal(t, "sqlite://herald.db", cfg.DatabaseURL)
}

func TestLoad(t *testing.T) {
	t.Setenv("HERALD_DATABASE_URL", testURL)
	t.Setenv("HERALD_ADDR", "0.0.0.0:8081")

	cfg, err := Load()
	require.NoError(t, err)
	require.Equal(t, testURL, cfg.DatabaseURL)
	require.Equal(t, "0.0.0.0:8081", cfg.Addr)

	t.Setenv("HERALD_ADDR", "nope")
	_, err = Load()
	require.ErrorContains(t, err, "HERALD_ADDR: address nope: missing port in address")
}

func TestLogValue(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name          string
		url, apiKey   string
		want, secrets []string
	}{
		{
			name:   "password in user info",
			url:    testURL,
			apiKey: testAPIKey,
			want: []string{
				"database_url=postgres://herald:xxxxx@db:5432/herald",
				"api_key=[set]",
			},
			secrets: []string{testPassword, testAPIKey},
		},
		{
			name:    "password in query",
			url:     "postgres://db/herald?password=" + testPassword + "&sslmode=require",
			want:    []string{"password=xxxxx", "sslmode=require", "api_key=\"\""},
			secrets: []string{testPassword},
		},
		{
			name: "no password",
			url:  "postgres://herald@db/herald",
			want: []string{"database_url=postgres://herald@db/herald"},
		},
		{
			name:    "unparsable",
			url:     "postgres://herald:" + testPassword + "@db:port/herald",
			want:    []string{"database_url=[invalid]"},
			secrets: []string{testPassword},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			cfg := Config{
				DatabaseURL:     tt.url,
				Addr:            ":8080",
				APIKey:          tt.apiKey,
				LogLevel:        slog.LevelWarn,
				LogFormat:       "json",
				AutoMigrate:     true,
				ShutdownTimeout: 10 * time.Second,
			}
			out := logLine(t, cfg)
			for _, s := range tt.secrets {
				require.NotContains(t, out, s)
			}
			for _, s := range tt.want {
				require.Contains(t, out, s)
			}
		})
	}
}

func TestLogValueShowsEveryField(t *testing.T) {
	t.Parallel()

	out := logLine(t, Config{DatabaseURL: testURL, DatabaseMaxConns: 7})
	require.Contains(t, out, `config.addr="" config.api_key="" config.log_level=info`)
	require.Contains(t, out, "config.auto_migrate=false config.shutdown_timeout=0s")
	require.Contains(t, out, "config.database_max_conns=7")

	attrs := Config{}.LogValue().Group()
	require.Len(t, attrs, reflect.TypeFor[Config]().NumField())
}

// logLine logs cfg under the key "config" through a text handler and
// returns the output.
func logLine(t *testing.T, cfg Config) string {
	t.Helper()

	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	logger.InfoContext(context.Background(), "starting", slog.Any("config", cfg))
	return buf.String()
}

func TestVars(t *testing.T) {
	t.Parallel()

	var (
		typ   = reflect.TypeFor[Config]()
		vars  = Vars()
		names = make(map[string]bool)
	)
	require.Len(t, vars, typ.NumField())
	for i, v := range vars {
		f := typ.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		require.NotEmpty(t, key, "field %s has no env tag", f.Name)
		require.Equal(t, "HERALD_"+key, v.Name)
		require.Equal(t, f.Tag.Get("envDefault"), v.Default, v.Name)
		require.NotEmpty(t, v.Description, "%s has no description", v.Name)
		require.False(t, names[v.Name], "%s appears twice", v.Name)
		names[v.Name] = true
	}
	require.Len(t, descriptions, len(vars), "descriptions has entries for no field")
	require.Equal(t, Var{
		Name:        "HERALD_API_KEY",
		Description: descriptions["HERALD_API_KEY"],
		Secret:      true,
	}, vars[2])
}
