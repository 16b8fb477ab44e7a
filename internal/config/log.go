package config

import (
	"log/slog"
	"net/url"
	"strings"
)

// masked replaces a password in a logged URL, as [url.URL.Redacted] does.
const masked = "xxxxx"

// LogValue implements [slog.LogValuer]. It shows every field under its
// snake_case key with secrets masked: the API key only as "[set]" or "",
// the database URL with its password replaced by "xxxxx".
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", maskURL(c.DatabaseURL)),
		slog.String("addr", c.Addr),
		slog.String("api_key", maskSecret(c.APIKey)),
		slog.String("log_level", strings.ToLower(c.LogLevel.String())),
		slog.String("log_format", c.LogFormat),
		slog.Bool("auto_migrate", c.AutoMigrate),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int("database_max_conns", int(c.DatabaseMaxConns)),
		slog.Int("max_payload_bytes", c.MaxPayloadBytes),
		slog.String("retry_schedule", c.RetrySchedule.String()),
		slog.Duration("delivery_timeout", c.DeliveryTimeout),
		slog.String("allowed_networks", c.AllowedNetworks),
		slog.Int("workers", c.Workers),
		slog.Int("endpoint_concurrency", c.EndpointConcurrency),
		slog.Uint64("breaker_failures", uint64(c.BreakerFailures)),
		slog.Duration("breaker_cooldown", c.BreakerCooldown),
	)
}

// maskURL masks the password in s, whether in the user info or, as
// Postgres also allows, in a password query parameter. It hides all of s
// if s does not parse.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[invalid]"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", masked)
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return "[set]"
}
