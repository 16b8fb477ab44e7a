// Package console is Herald's support console: server-rendered pages under
// /console where support staff sign in with an API key, find a tenant's
// failed deliveries, read what the endpoint answered, and send deliveries
// again. The templates and the style sheet are embedded in the binary, and
// the pages need no JavaScript.
package console

import (
	"cmp"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/store"
)

// Store is what the console needs of the database.
type Store interface {
	store.Tenants
	store.Endpoints
	store.Messages
	store.Replays
	store.Sessions
}

// Config configures [New].
type Config struct {
	// Store holds what the console shows and the sessions. Required.
	Store Store

	// Keyring holds the API keys that may sign in. Required; an empty
	// keyring refuses everyone.
	Keyring *auth.Keyring

	// Logger receives sign-ins and faults. Defaults to slog.Default().
	Logger *slog.Logger

	// SessionTTL is how long a sign-in lasts. Defaults to 12 hours.
	SessionTTL time.Duration
}

// defaultSessionTTL is how long a sign-in lasts unless configured.
const defaultSessionTTL = 12 * time.Hour

// maxFormBytes bounds the body of a form post.
const maxFormBytes = 64 << 10

// handler serves the console's pages.
type handler struct {
	store      Store
	keyring    *auth.Keyring
	logger     *slog.Logger
	sessionTTL time.Duration
	pages      *pages
}

// New returns the handler of the console, which serves the paths under
// /console.
func New(cfg Config) http.Handler {
	h := &handler{
		store:      cfg.Store,
		keyring:    cfg.Keyring,
		logger:     cmp.Or(cfg.Logger, slog.Default()),
		sessionTTL: cmp.Or(cfg.SessionTTL, defaultSessionTTL),
		pages:      parsePages(),
	}

	if h.keyring == nil {
		h.keyring = auth.NewKeyring()
	}

	return secure(h.routes())
}

// routes maps the console's paths to their handlers.
func (h *handler) routes() *http.ServeMux {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /console", redirectTo(tenantsPath))
	mux.HandleFunc("GET /console/{$}", redirectTo(tenantsPath))
	mux.HandleFunc("GET "+stylePath, serveStyle)
	mux.HandleFunc("GET "+loginPath, h.showLogin)
	mux.HandleFunc("POST "+loginPath, h.login)
	mux.HandleFunc("POST /console/logout", h.form(h.logout))

	mux.HandleFunc("GET "+tenantsPath, h.page(h.showTenants))
	mux.HandleFunc("GET /console/tenants/{tenant}", h.page(h.showTenant))

	const delivery = "/console/tenants/{tenant}/messages/{message}/endpoints/{endpoint}"
	mux.HandleFunc("GET "+delivery, h.page(h.showDelivery))
	mux.HandleFunc("POST "+delivery+"/resend", h.form(h.resend))

	const endpoint = "/console/tenants/{tenant}/endpoints/{endpoint}"
	mux.HandleFunc("GET "+endpoint, h.page(h.showEndpoint))
	mux.HandleFunc("POST "+endpoint+"/recover", h.form(h.recover))
	mux.HandleFunc("POST "+endpoint+"/enable", h.form(h.enable))

	mux.HandleFunc("/console/", h.notFound)

	return mux
}

// redirectTo answers with a redirect to path.
func redirectTo(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, path, http.StatusSeeOther)
	}
}

// contentSecurityPolicy allows the pages nothing from elsewhere: no
// script at all, the style sheet from Herald, forms posting to Herald, and
// no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// secure sets the headers that keep the console's pages from being framed,
// sniffed, cached or made to run what an attacker injected.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := w.Header()
		header.Set("Content-Security-Policy", contentSecurityPolicy)
		header.Set("X-Frame-Options", "DENY")
		header.Set("X-Content-Type-Options", "nosniff")
		header.Set("Referrer-Policy", "same-origin")
		header.Set("Cache-Control", "no-store")

		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}

		next.ServeHTTP(w, r)
	})
}
