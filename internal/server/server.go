// Package server is Herald's REST API: the Echo handlers of the interface
// generated from api/openapi.yaml, API key authentication, and the one place
// where errors become application/problem+json answers.
package server

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/batch"
	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/store"
)

// Store is what the API needs of the database: the parts of
// [store.Store] that it serves.
type Store interface {
	Ping(ctx context.Context) error
	store.Tenants
	store.Endpoints
	store.Messages
	store.Replays
}

// Config configures [New].
type Config struct {
	// Store holds tenants and endpoints. Required.
	Store Store

	// Keyring holds the API keys that may call /v1. Required; an empty
	// keyring refuses every call.
	Keyring *auth.Keyring

	// Logger receives request failures. Defaults to slog.Default().
	Logger *slog.Logger

	// MaxBodyBytes bounds a request body other than a published message.
	// Defaults to 64 KiB.
	MaxBodyBytes int64

	// MaxPayloadBytes bounds the payload of a published message. Defaults
	// to 256 KiB.
	MaxPayloadBytes int

	// Egress refuses endpoint URLs whose host is a literal address it
	// would not dial. Defaults to a policy allowing public addresses only.
	Egress *egress.Policy

	// Console, when set, serves the support console under /console/. It
	// signs its users in itself, so the API key check does not apply.
	Console http.Handler
}

// Defaults of [Config].
const (
	defaultMaxBodyBytes    = 64 << 10
	defaultMaxPayloadBytes = 256 << 10
)

// Publishes wait for one another and share a transaction: while one
// publish transaction runs, those that arrive wait and go together into
// the next, at most maxPublishBatch of them, so that a busy API commits
// many messages at a time.
const (
	publishConcurrency = 1
	maxPublishBatch    = 100
)

// readyTimeout bounds the database check of GET /readyz.
const readyTimeout = 2 * time.Second

// handler implements the generated [ServerInterface].
type handler struct {
	store           Store
	logger          *slog.Logger
	maxBodyBytes    int64
	maxPayloadBytes int
	egress          *egress.Policy
	publisher       *batch.Batcher[messages.Message, messages.PublishResult]
}

var _ ServerInterface = (*handler)(nil)

// New returns the HTTP handler of the whole API.
func New(cfg Config) http.Handler {
	h := newHandler(cfg)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError

	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}))
	e.Use(requireKey(cfg.Keyring))

	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", api.Spec)
	})
	RegisterHandlers(e, h)

	if cfg.Console != nil {
		e.Any("/console", echo.WrapHandler(cfg.Console))
		e.Any("/console/*", echo.WrapHandler(cfg.Console))
	}

	return headAsGet(e)
}

// newHandler returns the handlers of the API, with cfg's defaults filled.
func newHandler(cfg Config) *handler {
	h := &handler{
		store:           cfg.Store,
		logger:          cmp.Or(cfg.Logger, slog.Default()),
		maxBodyBytes:    cmp.Or(cfg.MaxBodyBytes, defaultMaxBodyBytes),
		maxPayloadBytes: cmp.Or(cfg.MaxPayloadBytes, defaultMaxPayloadBytes),
		egress:          cmp.Or(cfg.Egress, egress.NewPolicy(nil)),
	}
	h.publisher = batch.New(h.publishBatch, batch.Opts{
		MaxSize:     maxPublishBatch,
		Concurrency: publishConcurrency,
	})

	return h
}

// headAsGet answers HEAD requests with the GET handlers, as HTTP requires.
// The handlers see a GET; the response writer still belongs to the HEAD
// request, so net/http sends the headers and drops the body.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}

		next.ServeHTTP(w, r)
	})
}

// actorKey is the key, in the Echo context of a /v1 request, of the
// fingerprint of the API key that signed it.
const actorKey = "herald.actor"

// requireKey refuses /v1 requests without a key of the keyring. It puts
// the fingerprint of the key in the context, for the records of who did
// what; see [actor].
func requireKey(keyring *auth.Keyring) echo.MiddlewareFunc {
	if keyring == nil {
		keyring = auth.NewKeyring()
	}

	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !strings.HasPrefix(c.Request().URL.Path, "/v1/") && c.Request().URL.Path != "/v1" {
				return next(c)
			}

			token, ok := auth.BearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			sum := auth.Hash(token)

			if !ok || !keyring.AcceptsHash(sum) {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="herald"`)
				return errUnauthorized
			}

			c.Set(actorKey, auth.Fingerprint(sum))

			return next(c)
		}
	}
}

// actor returns who sent the request: the fingerprint of its API key, as
// [auth.Fingerprint] makes it.
func actor(c echo.Context) string {
	fingerprint, _ := c.Get(actorKey).(string)
	return fingerprint
}

// GetHealth answers while the process is up.
func (h *handler) GetHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, Health{Status: "ok"})
}

// GetReady answers 200 when the database answers.
func (h *handler) GetReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()

	if err := h.store.Ping(ctx); err != nil {
		return unavailable(err)
	}

	return c.JSON(http.StatusOK, Health{Status: "ok"})
}
