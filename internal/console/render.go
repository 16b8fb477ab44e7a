package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

// Paths of the console that other pages link to.
const (
	loginPath   = "/console/login"
	tenantsPath = "/console/tenants"
	stylePath   = "/console/static/console.css"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/console.css
var style []byte

// styleURL is the address pages link the style sheet at: the version in it
// changes with the sheet, so that a browser never keeps a stale one.
var styleURL = func() string {
	sum := sha256.Sum256(style)
	return stylePath + "?v=" + hex.EncodeToString(sum[:6])
}()

// serveStyle answers the style sheet, which browsers may keep for a day.
func serveStyle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(style) //nolint:errcheck,gosec // the client went away; nothing to do
}

// pages holds one template set per page, each the layout with the page.
type pages struct {
	byName map[string]*template.Template
}

// pageNames names the pages, each a file templates/<name>.html.
var pageNames = []string{"login", "error", "tenants", "tenant", "delivery", "endpoint"}

// parsePages parses every page with the layout. The templates are part of
// the binary, so an error is a bug that the package's tests catch.
func parsePages() *pages {
	p := &pages{byName: make(map[string]*template.Template, len(pageNames))}

	for _, name := range pageNames {
		p.byName[name] = template.Must(template.New(name).Funcs(funcs).
			ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}

	return p
}

// view is what the layout shows around a page.
type view struct {
	// Signed is set for a signed-in visitor, whom the layout offers to sign
	// out with the CSRF token CSRF; Actor names the visitor's key.
	Signed bool
	Actor  string
	CSRF   string

	Style string
	Page  any
}

// render answers page with status, shown through the template name. v is
// nil for a visitor who is not signed in. The page is rendered in full
// before anything is written, so that a failure never sends half a page.
func (h *handler) render(
	w http.ResponseWriter, r *http.Request, status int, name string, v *visit, page any,
) {
	data := view{Style: styleURL, Page: page}
	if v != nil {
		data.Signed, data.Actor, data.CSRF = true, v.actor, v.csrf
	}

	var buf bytes.Buffer
	if err := h.pages.byName[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		h.logger.ErrorContext(r.Context(), "render console page",
			slog.String("page", name), slog.Any("error", err))
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)

		return
	}

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck,gosec // the client went away; nothing to do
}

// errorView is what the error page shows.
type errorView struct {
	Status  int
	Title   string
	Message string
}

// renderError answers the error page with status and message.
func (h *handler) renderError(
	w http.ResponseWriter, r *http.Request, v *visit, status int, message string,
) {
	h.render(w, r, status, "error", v, errorView{
		Status:  status,
		Title:   http.StatusText(status),
		Message: message,
	})
}

// fail answers the error page of err.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	status, message := h.explain(r, err)
	h.renderError(w, r, v, status, message)
}

// notFound answers the paths of the console that name no page.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	v, _, _ := h.visitor(r)
	h.renderError(w, r, v, http.StatusNotFound, "There is no such page in the console.")
}

// explain returns the HTTP status of err and what to tell the visitor. It
// is the one place where the console turns errors into answers; errors it
// does not know are Herald's own faults, which it logs.
func (h *handler) explain(r *http.Request, err error) (int, string) {
	var invalid *validation.Error

	switch {
	case errors.As(err, &invalid):
		details := make([]string, len(invalid.Fields))
		for i, f := range invalid.Fields {
			details[i] = strings.ReplaceAll(f.Field, "_", " ") + " " + f.Detail
		}

		return http.StatusBadRequest, "Check the form: " + strings.Join(details, "; ") + "."
	case errors.Is(err, subscriptions.ErrTenantNotFound):
		return http.StatusNotFound, "There is no such tenant."
	case errors.Is(err, subscriptions.ErrEndpointNotFound):
		return http.StatusNotFound, "The tenant has no such endpoint."
	case errors.Is(err, messages.ErrNotFound):
		return http.StatusNotFound, "The tenant has no such message."
	case errors.Is(err, messages.ErrRecoveryNotFound):
		return http.StatusNotFound, "The endpoint has no such recovery."
	case errors.Is(err, subscriptions.ErrEndpointDisabled):
		return http.StatusConflict, "This endpoint is disabled: re-enable it first."
	}

	h.logger.ErrorContext(r.Context(), "console request",
		slog.String("path", r.URL.Path), slog.Any("error", err))

	return http.StatusInternalServerError,
		"Something went wrong on Herald's side. It was logged; try again later."
}
