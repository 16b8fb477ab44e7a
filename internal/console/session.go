package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/auth"
)

// cookieName names the cookie holding the session token.
const cookieName = "herald_session"

// csrfField names the form field holding the CSRF token.
const csrfField = "csrf"

// csrfLabel is what a session's CSRF token is the MAC of.
const csrfLabel = "herald console csrf v1"

// visit is a signed-in request: its session and what the pages need of it.
type visit struct {
	session auth.Session

	// csrf is the token every form of the session carries.
	csrf string

	// actor names the session's key in records of who did what.
	actor string
}

// csrfToken returns the CSRF token of the session with token: an HMAC of
// a fixed label keyed with the session token, so that only the holder of
// the cookie can compute it, and it needs no storage.
func csrfToken(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(csrfLabel))

	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// visitor returns the request's session, or false when the request has
// none that is current and whose key the keyring still accepts.
func (h *handler) visitor(r *http.Request) (*visit, bool, error) {
	cookies := r.CookiesNamed(cookieName)
	if len(cookies) == 0 || cookies[0].Value == "" {
		return nil, false, nil
	}

	token := cookies[0].Value

	s, err := h.store.GetSession(r.Context(), auth.Hash(token), time.Now())
	if errors.Is(err, auth.ErrSessionNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}

	if !h.keyring.AcceptsHash(s.KeyHash) {
		return nil, false, nil
	}

	return &visit{
		session: s,
		csrf:    csrfToken(token),
		actor:   auth.Fingerprint(s.KeyHash) + " (console)",
	}, true, nil
}

// page serves fn to signed-in visitors and sends the others to sign in.
func (h *handler) page(fn func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok, err := h.visitor(r)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}

		if !ok {
			http.Redirect(w, r, loginPath, http.StatusSeeOther)
			return
		}

		fn(w, r, v)
	}
}

// form serves fn to signed-in visitors posting a form of their own session,
// from a page of this origin. It refuses a post that lacks either.
func (h *handler) form(fn func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return h.page(func(w http.ResponseWriter, r *http.Request, v *visit) {
		if err := r.ParseForm(); err != nil {
			h.renderError(w, r, v, http.StatusBadRequest, "The form could not be read.")
			return
		}

		if !sameOrigin(r) || !hmac.Equal([]byte(r.PostForm.Get(csrfField)), []byte(v.csrf)) {
			h.renderError(w, r, v, http.StatusForbidden,
				"This form did not come from a page of this console session. "+
					"Reload the page and try again.")

			return
		}

		fn(w, r, v)
	})
}

// sameOrigin reports whether the request's Origin header, when it has one,
// names the host the request was sent to.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}

	u, err := url.Parse(origin)

	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// loginView is what the sign-in page shows.
type loginView struct {
	Error  string
	Notice string
}

// showLogin answers the sign-in form, or sends a visitor already signed in
// to the tenants.
func (h *handler) showLogin(w http.ResponseWriter, r *http.Request) {
	if _, ok, _ := h.visitor(r); ok {
		http.Redirect(w, r, tenantsPath, http.StatusSeeOther)
		return
	}

	var view loginView
	if r.URL.Query().Get("signed_out") != "" {
		view.Notice = "You are signed out."
	}

	h.render(w, r, http.StatusOK, "login", nil, view)
}

// login signs in with the API key of the form: it starts a session and
// hands its token to the browser in a cookie.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		h.render(w, r, http.StatusBadRequest, "login", nil,
			loginView{Error: "The form could not be read. Reload the page and try again."})

		return
	}

	key := strings.TrimSpace(r.PostForm.Get("key"))
	if !h.keyring.Accepts(key) {
		h.logger.InfoContext(r.Context(), "console sign-in refused",
			slog.String("remote_addr", r.RemoteAddr))
		h.render(w, r, http.StatusUnauthorized, "login", nil,
			loginView{Error: "That API key is not valid."})

		return
	}

	keyHash := auth.Hash(key)

	token, s, err := auth.NewSession(keyHash, h.sessionTTL)
	if err == nil {
		err = h.store.CreateSession(r.Context(), s)
	}

	if err != nil {
		h.fail(w, r, nil, err)
		return
	}

	// Secure only over TLS: Herald also serves plain HTTP, on localhost or
	// behind a proxy, and a browser drops a Secure cookie sent over it.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // Secure whenever the request came over TLS
		Name:     cookieName,
		Value:    token,
		Path:     "/console",
		Expires:  s.ExpiresAt,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	h.logger.InfoContext(r.Context(), "console sign-in",
		slog.String("actor", auth.Fingerprint(keyHash)))
	http.Redirect(w, r, tenantsPath, http.StatusSeeOther)
}

// logout ends the session and clears its cookie.
func (h *handler) logout(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := h.store.DeleteSession(r.Context(), v.session.TokenHash); err != nil {
		h.fail(w, r, v, err)
		return
	}

	http.SetCookie(w, &http.Cookie{ //nolint:gosec // Secure whenever the request came over TLS
		Name:     cookieName,
		Path:     "/console",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, loginPath+"?signed_out=1", http.StatusSeeOther)
}
