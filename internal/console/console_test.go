package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

func TestSignIn(t *testing.T) {
	t.Parallel()

	b := setup(t)

	form := b.get(t, "/console/login")
	require.Equal(t, http.StatusOK, form.status)
	require.Regexp(t, `<input id="key" name="key" type="password" required autofocus`, form.body)
	require.Contains(t, form.body, `<label for="key">API key</label>`)
	require.Contains(t, form.body, `href="#main">Skip to content</a>`)

	wrong := b.post(t, "/console/login", url.Values{"key": {"hk_not-the-key"}})
	require.Equal(t, http.StatusUnauthorized, wrong.status)
	require.Contains(t, wrong.body, "That API key is not valid.")
	require.Empty(t, wrong.header.Values("Set-Cookie"))

	right := b.post(t, "/console/login", url.Values{"key": {" " + testKey + "\n"}})
	require.Equal(t, http.StatusSeeOther, right.status)
	require.Equal(t, "/console/tenants", right.location())

	cookie := right.header.Get("Set-Cookie")
	require.Regexp(t, `^herald_session=[A-Za-z0-9_-]{43}; `, cookie)

	for _, attr := range []string{"Path=/console", "HttpOnly", "SameSite=Strict", "Expires="} {
		require.Contains(t, cookie, attr)
	}

	require.NotContains(t, cookie, "Secure", "the test server speaks plain HTTP")

	tenants := b.get(t, "/console/tenants")
	require.Equal(t, http.StatusOK, tenants.status)
	require.Contains(t, tenants.body, `<a href="/console/tenants/acme"><code>acme</code></a>`)
	require.Contains(t, tenants.body, "key:"+fingerprintHex()+" (console)")

	// Signed in, the login page sends on to the tenants.
	again := b.get(t, "/console/login")
	require.Equal(t, http.StatusSeeOther, again.status)
	require.Equal(t, "/console/tenants", again.location())

	require.NotContains(t, b.log.String(), testKey)
	require.Contains(t, b.log.String(), "console sign-in refused")
}

// fingerprintHex is the hex part of testKey's fingerprint.
func fingerprintHex() string {
	return strings.TrimPrefix(auth.Fingerprint(auth.Hash(testKey)), "key:")
}

func TestSignInOverTLSSetsASecureCookie(t *testing.T) {
	t.Parallel()

	b := setup(t)
	tlsServer := httptest.NewTLSServer(b.console(auth.NewKeyring(auth.Hash(testKey))))
	t.Cleanup(tlsServer.Close)

	client := tlsServer.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, tlsServer.URL+"/console/login",
		strings.NewReader(url.Values{"key": {testKey}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	res, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Contains(t, res.Header.Get("Set-Cookie"), "; Secure")
}

func TestPagesNeedASession(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.failed(t, e)

	paths := []string{
		"/console/tenants",
		"/console/tenants/acme",
		deliveryPath(m.ID, e.ID),
		endpointPath(e.ID),
	}

	for _, path := range paths {
		p := b.get(t, path)
		require.Equal(t, http.StatusSeeOther, p.status, path)
		require.Equal(t, "/console/login", p.location(), path)
	}

	p := b.post(t, deliveryPath(m.ID, e.ID)+"/resend", url.Values{"csrf": {"x"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/console/login", p.location())

	// A cookie that names no session is no better than none.
	u, err := url.Parse(b.server.URL + "/console")
	require.NoError(t, err)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_session", Value: "made-up", Path: "/console"}})
	require.Equal(t, http.StatusSeeOther, b.get(t, "/console/tenants").status)

	require.Empty(t, b.jobs.queued()[1:], "only the publish queued a job")
}

func TestSessionEndsWithItsKey(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.signIn(t)
	require.Equal(t, http.StatusOK, b.get(t, "/console/tenants").status)

	// The same store behind a keyring that no longer holds the key. Cookies
	// ignore the port, so the browser sends its session there too.
	rotated := httptest.NewServer(b.console(auth.NewKeyring(auth.Hash("hk_another-key"))))
	t.Cleanup(rotated.Close)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rotated.URL+"/console/tenants", nil)
	require.NoError(t, err)

	p := b.do(t, req)
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/console/login", p.location())
}

func TestSignOut(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.signIn(t)

	u, err := url.Parse(b.server.URL + "/console")
	require.NoError(t, err)
	cookies := b.client.Jar.Cookies(u)
	require.Len(t, cookies, 1)

	out := b.post(t, "/console/logout", url.Values{"csrf": {b.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, out.status)
	require.Equal(t, "/console/login?signed_out=1", out.location())
	require.Regexp(t, `^herald_session=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict$`,
		out.header.Get("Set-Cookie"))
	require.Contains(t, b.get(t, out.location()).body, "You are signed out.")

	// The session is gone from the store, not only from this browser.
	_, err = b.store.GetSession(t.Context(), auth.Hash(cookies[0].Value), time.Now())
	require.ErrorIs(t, err, auth.ErrSessionNotFound)

	b.client.Jar.SetCookies(u, cookies)
	require.Equal(t, http.StatusSeeOther, b.get(t, "/console/tenants").status)
}

func TestFormsNeedTheirCSRFTokenAndOrigin(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.failed(t, e)
	b.signIn(t)

	token := b.csrf(t)
	resend := deliveryPath(m.ID, e.ID) + "/resend"

	for _, tt := range []struct {
		name   string
		origin string
		form   url.Values
	}{
		{"no token", b.server.URL, url.Values{}},
		{"wrong token", b.server.URL, url.Values{"csrf": {token[1:] + "A"}}},
		{"another origin", "https://evil.example", url.Values{"csrf": {token}}},
		{"null origin", "null", url.Values{"csrf": {token}}},
	} {
		p := b.postFrom(t, tt.origin, resend, tt.form)
		require.Equal(t, http.StatusForbidden, p.status, tt.name)
		require.Contains(t, p.body, "did not come from a page of this console session", tt.name)
	}

	require.Len(t, b.jobs.queued(), 1, "only the publish queued a job")
	require.Equal(t, messages.StatusFailed, b.delivery(t, m.ID, e.ID).Status)

	// A form without an Origin header, as older browsers send, is fine.
	p := b.postFrom(t, "", resend, url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)

	// A form too large to be one of the console's is not read.
	huge := b.post(t, resend, url.Values{"csrf": {token}, "pad": {strings.Repeat("x", 70<<10)}})
	require.Equal(t, http.StatusBadRequest, huge.status)
	require.Contains(t, huge.body, "The form could not be read.")

	// A login from another origin is refused too.
	p = b.postFrom(t, "https://evil.example", "/console/login", url.Values{"key": {testKey}})
	require.Equal(t, http.StatusBadRequest, p.status)
	require.Empty(t, p.header.Values("Set-Cookie"))
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()

	b := setup(t)

	for _, path := range []string{"/console/login", "/console/tenants", "/console/nowhere"} {
		p := b.get(t, path)
		require.Contains(t, p.header.Get("Content-Security-Policy"), "default-src 'self'", path)
		require.Contains(t, p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		require.Equal(t, "DENY", p.header.Get("X-Frame-Options"), path)
		require.Equal(t, "nosniff", p.header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "no-store", p.header.Get("Cache-Control"), path)
	}

	login := b.get(t, "/console/login")
	href := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(login.body)
	require.NotNil(t, href)

	css := b.get(t, strings.ReplaceAll(href[1], "&amp;", "&"))
	require.Equal(t, http.StatusOK, css.status)
	require.Equal(t, "text/css; charset=utf-8", css.header.Get("Content-Type"))
	require.Equal(t, "public, max-age=86400", css.header.Get("Cache-Control"))
	require.Contains(t, css.body, ":focus-visible")
}

func TestRootRedirectsToTenants(t *testing.T) {
	t.Parallel()

	b := setup(t)

	for _, path := range []string{"/console", "/console/"} {
		p := b.get(t, path)
		require.Equal(t, http.StatusSeeOther, p.status, path)
		require.Equal(t, "/console/tenants", p.location(), path)
	}
}

func TestTenantsPages(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.signIn(t)

	for i := range 50 {
		tenant, err := subscriptions.NewTenant(fmt.Sprintf("t%02d", i), subscriptions.TenantParams{})
		require.NoError(t, err)
		_, _, err = b.store.PutTenant(t.Context(), tenant)
		require.NoError(t, err)
	}

	first := b.get(t, "/console/tenants")
	require.Equal(t, http.StatusOK, first.status)
	require.Contains(t, first.body, `href="/console/tenants/acme"`)
	require.NotContains(t, first.body, `href="/console/tenants/t49"`)
	require.Contains(t, first.body, `<a href="/console/tenants?after=t48" rel="next">Next tenants</a>`)

	second := b.get(t, "/console/tenants?after=t48")
	require.Equal(t, http.StatusOK, second.status)
	require.Contains(t, second.body, `href="/console/tenants/t49"`)
	require.NotContains(t, second.body, "Next tenants")

	bad := b.get(t, "/console/tenants?after=%3Cscript%3E")
	require.Equal(t, http.StatusBadRequest, bad.status)
	require.Contains(t, bad.body, "That link to a page of tenants is not valid.")
}

func TestTenantPage(t *testing.T) {
	t.Parallel()

	b := setup(t)
	healthy := b.endpoint(t, "")
	gone := b.endpoint(t, "the endpoint answered 410 Gone")
	m := b.failed(t, healthy)
	ok := b.publish(t, "invoice.sent")
	b.signIn(t)

	p := b.get(t, "/console/tenants/acme")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "Acme Inc.")
	require.Contains(t, p.body, `href="`+endpointPath(healthy.ID)+`"`)
	require.Contains(t, p.body, `<span class="badge badge-disabled">disabled</span> `+
		`<span class="reason">the endpoint answered 410 Gone</span>`)
	require.Contains(t, p.body, `<option value="failed" selected>failed</option>`)
	require.Contains(t, p.body, "<caption>Failed deliveries, newest first</caption>")
	require.Contains(t, p.body, `href="`+deliveryPath(m.ID, healthy.ID)+`"`)
	require.NotContains(t, p.body, ok.ID, "the pending delivery is not failed")
	require.Contains(t, p.body, "the retry schedule ran out")

	// The failure streak of the endpoint that failed once.
	row := regexp.MustCompile(`(?s)<tr>\s*<td><a href="` + endpointPath(healthy.ID) + `">.*?</tr>`).
		FindString(p.body)
	require.Contains(t, row, `<span class="badge badge-closed">closed</span>`)
	require.Contains(t, row, `<td class="num">1</td>`)

	pending := b.get(t, "/console/tenants/acme?status=pending&event_type=invoice.sent&endpoint="+healthy.ID)
	require.Equal(t, http.StatusOK, pending.status)
	require.Contains(t, pending.body, ok.ID)
	require.NotContains(t, pending.body, m.ID)
	require.Contains(t, pending.body, `value="invoice.sent"`)

	all := b.get(t, "/console/tenants/acme?status=any")
	require.Contains(t, all.body, "All deliveries, newest first")
	require.Contains(t, all.body, ok.ID)
	require.Contains(t, all.body, m.ID)
	require.NotRegexp(t, `/messages/[^/"]+/endpoints/`+gone.ID, all.body,
		"nothing went to the disabled endpoint")

	none := b.get(t, "/console/tenants/acme?status=succeeded")
	require.Contains(t, none.body, "No deliveries match.")
}

func TestTenantPageRefusesABadFilter(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.signIn(t)

	for query, want := range map[string]string{
		"status=lost":          "status must be failed, pending, succeeded or any",
		"event_type=no%20way":  "event type must be an event type such as invoice.paid",
		"endpoint=ep_nope":     "endpoint must be one of the tenant&#39;s endpoints",
		"before=bm90LWEta2V5":  "older link is not one this console made",
		"before=%25%25%25":     "older link is not one this console made",
		"endpoint=%3Cb%3E1%3C": "&lt;b&gt;1&lt;",
	} {
		p := b.get(t, "/console/tenants/acme?"+query)
		require.Equal(t, http.StatusBadRequest, p.status, query)
		require.Contains(t, p.body, `role="alert"`, query)
		require.Contains(t, p.body, want, query)
		require.Contains(t, p.body, "Acme Inc.", "the page shows the tenant still")
	}
}

func TestDeliveryPagination(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")

	ids := make([]string, 51)
	for i := range ids {
		ids[i] = b.failed(t, e).ID
	}

	// Ids made within one millisecond need not sort in the order they were
	// made; the console lists by id, so the test does too.
	slices.Sort(ids)

	b.signIn(t)

	first := b.get(t, "/console/tenants/acme")
	require.Equal(t, http.StatusOK, first.status)
	require.Contains(t, first.body, ids[50], "newest first")
	require.NotContains(t, first.body, ids[0])

	older := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older</a>`).FindStringSubmatch(first.body)
	require.NotNil(t, older, first.body)

	second := b.get(t, strings.ReplaceAll(older[1], "&amp;", "&"))
	require.Equal(t, http.StatusOK, second.status, second.body)
	require.Contains(t, second.body, ids[0])
	require.NotContains(t, second.body, ids[1])
	require.NotContains(t, second.body, `rel="next">Older`)
	require.Contains(t, second.body, `<a href="/console/tenants/acme?status=failed">Newest</a>`)
}

func TestDeliveryPage(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	other := b.endpoint(t, "")
	m := b.publish(t, "invoice.paid")
	b.fail(t, m.ID, e.ID, http.StatusBadGateway, `<script>alert("owned")</script>`)
	b.fail(t, m.ID, other.ID, http.StatusTeapot, "not this one")
	b.signIn(t)

	p := b.get(t, deliveryPath(m.ID, e.ID))
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "invoice.paid")
	require.Contains(t, p.body, `<dd id="delivery-status"><span class="badge badge-failed">failed</span></dd>`)
	require.Contains(t, p.body, `<td class="num status-code">502</td>`)
	require.Contains(t, p.body, `<td class="num">42 ms</td>`)
	require.Contains(t, p.body, "the endpoint answered Bad Gateway")
	require.NotContains(t, p.body, `<td class="num status-code">418</td>`,
		"attempts to other endpoints are not shown")
	require.NotContains(t, p.body, `{"n":1}`, "the payload is not shown")

	// The hostile body is shown as text.
	require.NotContains(t, p.body, `<script>alert`)
	require.Contains(t, p.body, `<pre class="body">&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;</pre>`)
	require.Contains(t, p.body, "Nobody sent this message again yet.")
	require.Contains(t, p.body, `<button type="submit" id="resend">Resend</button>`)
}

func TestDeliveryPageOfAMessageNeverSentThere(t *testing.T) {
	t.Parallel()

	b := setup(t)
	m := b.publish(t, "invoice.paid")
	e := b.endpoint(t, "") // made after the message
	b.signIn(t)

	p := b.get(t, deliveryPath(m.ID, e.ID))
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "never sent to this endpoint")
	require.Contains(t, p.body, "No attempt yet.")

	resent := b.post(t, deliveryPath(m.ID, e.ID)+"/resend", url.Values{"csrf": {p.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, resent.status, resent.body)
	require.Equal(t, messages.StatusPending, b.delivery(t, m.ID, e.ID).Status)
}

func TestMissingThingsAreNotFound(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.failed(t, e)
	unknownMessage := messages.IDAt("msg", time.Now())
	unknownEndpoint := strings.Replace(e.ID, e.ID[len(e.ID)-4:], "zzzz", 1)
	b.signIn(t)

	for path, want := range map[string]string{
		"/console/tenants/nobody":                                      "There is no such tenant.",
		"/console/tenants/%3Cbad%3E":                                   "There is no such tenant.",
		deliveryPath(unknownMessage, e.ID):                             "The tenant has no such message.",
		deliveryPath("msg_bad", e.ID):                                  "The tenant has no such message.",
		deliveryPath(m.ID, unknownEndpoint):                            "The tenant has no such endpoint.",
		deliveryPath(m.ID, "ep_bad"):                                   "The tenant has no such endpoint.",
		"/console/tenants/x/messages/" + m.ID + "/endpoints/" + e.ID:   "The tenant has no such message.",
		"/console/tenants/%3C/messages/" + m.ID + "/endpoints/" + e.ID: "There is no such tenant.",
		endpointPath(unknownEndpoint):                                  "The tenant has no such endpoint.",
		endpointPath("ep_bad"):                                         "The tenant has no such endpoint.",
		"/console/tenants/x/endpoints/" + e.ID:                         "The tenant has no such endpoint.",
		"/console/nowhere":                                             "There is no such page in the console.",
	} {
		p := b.get(t, path)
		require.Equal(t, http.StatusNotFound, p.status, path)
		require.Contains(t, p.body, want, path)
	}

	for path, want := range map[string]string{
		deliveryPath(unknownMessage, e.ID) + "/resend":  "The tenant has no such message.",
		deliveryPath(m.ID, unknownEndpoint) + "/resend": "The tenant has no such endpoint.",
		endpointPath(unknownEndpoint) + "/recover":      "The tenant has no such endpoint.",
		endpointPath(unknownEndpoint) + "/enable":       "The tenant has no such endpoint.",
	} {
		p := b.post(t, path, url.Values{"csrf": {b.csrf(t)}, "since": {"2026-01-01T00:00"}})
		require.Equal(t, http.StatusNotFound, p.status, path)
		require.Contains(t, p.body, want, path)
	}
}

func TestResend(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.failed(t, e)
	b.signIn(t)

	p := b.post(t, deliveryPath(m.ID, e.ID)+"/resend", url.Values{"csrf": {b.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, deliveryPath(m.ID, e.ID)+"?done=resent", p.location())

	d := b.delivery(t, m.ID, e.ID)
	require.Equal(t, messages.StatusPending, d.Status)
	require.Equal(t, 1, d.Round)
	require.Contains(t, b.jobs.queued(), messages.Ref{MessageID: m.ID, EndpointID: e.ID, Round: 1})

	replays, err := b.store.ListReplays(t.Context(), acme, m.ID, 10)
	require.NoError(t, err)
	require.Len(t, replays, 1)
	require.Equal(t, messages.ReplayResend, replays[0].Kind)
	require.Equal(t, auth.Fingerprint(auth.Hash(testKey))+" (console)", replays[0].Actor)

	page := b.get(t, p.location())
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "Resend queued")
	require.Contains(t, page.body, `<span class="badge badge-pending">pending</span>`)
	require.Regexp(t, `(?s)<table id="replays">.*<td>resend</td>\s*<td><code>`+e.ID+
		`</code> <small>\(this one\)</small></td>\s*<td>key:`+fingerprintHex()+` \(console\)</td>`, page.body)
	require.Contains(t, b.log.String(), "console resend")
}

func TestResendToADisabledEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.failed(t, e)
	b.signIn(t)
	require.NoError(t, b.store.DisableEndpoint(t.Context(), e.ID, "too many failures"))

	p := b.post(t, deliveryPath(m.ID, e.ID)+"/resend", url.Values{"csrf": {b.csrf(t)}})
	require.Equal(t, http.StatusConflict, p.status)
	require.Contains(t, p.body, "This endpoint is disabled: re-enable it first.")
	require.Contains(t, p.body, `<span class="badge badge-failed">failed</span>`, "the page is shown")
	require.Equal(t, messages.StatusFailed, b.delivery(t, m.ID, e.ID).Status)
}

func TestEndpointPageAndRecover(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.failed(t, e)
	b.signIn(t)

	p := b.get(t, endpointPath(e.ID))
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "https://example.com/hooks")
	require.Contains(t, p.body, `<span class="badge badge-enabled">enabled</span>`)
	require.Contains(t, p.body, `<dt>Failure streak</dt><dd>1</dd>`)
	require.Contains(t, p.body, "No recovery yet.")
	require.Contains(t, p.body, `href="/console/tenants/acme?endpoint=`+e.ID+`&amp;status=failed"`)
	require.NotContains(t, p.body, `id="enable"`)

	// With no success yet, the window starts when the endpoint was made.
	since := e.CreatedAt.UTC().Format("2006-01-02T15:04:05")
	require.Contains(t, p.body, `<input id="since" name="since" type="datetime-local" step="1" required value="`+
		since+`">`)

	created := b.post(t, endpointPath(e.ID)+"/recover", url.Values{"csrf": {p.csrf(t)}, "since": {since}})
	require.Equal(t, http.StatusSeeOther, created.status, created.body)
	require.Equal(t, endpointPath(e.ID)+"?done=recovering", created.location())

	recoveries, err := b.store.ListRecoveries(t.Context(), acme, e.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, recoveries, 1)
	require.Equal(t, 1, recoveries[0].Total)
	require.Equal(t, auth.Fingerprint(auth.Hash(testKey))+" (console)", recoveries[0].Actor)

	page := b.get(t, created.location())
	require.Contains(t, page.body, "Recovery queued")
	require.Contains(t, page.body, `<span class="badge badge-running">running</span>`)
	require.Contains(t, page.body, "0 of 1 queued")

	// The job queues the failed delivery; the page shows the progress.
	_, err = b.store.RecoverNext(t.Context(), recoveries[0].ID, 10)
	require.NoError(t, err)

	page = b.get(t, endpointPath(e.ID))
	require.Contains(t, page.body, `<span class="badge badge-done">done</span>`)
	require.Contains(t, page.body, "1 of 1 queued")
	require.Equal(t, 1, b.delivery(t, m.ID, e.ID).Round)

	replays := b.get(t, deliveryPath(m.ID, e.ID))
	require.Contains(t, replays.body, "<td>recover <small>(<code>"+recoveries[0].ID+"</code>)</small></td>")
}

func TestRecoverRefusesABadWindow(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	b.signIn(t)

	var (
		token = b.csrf(t)
		now   = time.Now().UTC()
		at    = func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04") }
	)

	for _, tt := range []struct {
		since, until, want string
	}{
		{"", "", "since is required"},
		{"yesterday", "", "since must be a date and time such as 2026-05-01T09:30"},
		{"2026-01-01T00:00", "soon", "until must be a date and time"},
		{at(time.Hour), "", "since must be before until and before now"},
		{at(-48 * time.Hour), at(-72*time.Hour) + ":00", "since must be before until and before now"},
		{at(-60 * 24 * time.Hour), "", "since must be at most 30 days before until"},
	} {
		form := url.Values{"csrf": {token}, "since": {tt.since}, "until": {tt.until}}
		p := b.post(t, endpointPath(e.ID)+"/recover", form)
		require.Equal(t, http.StatusBadRequest, p.status, tt.since)
		require.Contains(t, p.body, tt.want, tt.since)
		require.Contains(t, p.body, `value="`+tt.since+`"`, "the form keeps what was typed")
	}

	recoveries, err := b.store.ListRecoveries(t.Context(), acme, e.ID, "", 10)
	require.NoError(t, err)
	require.Empty(t, recoveries)
}

func TestEnableThenRecover(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.failed(t, e)
	require.NoError(t, b.store.DisableEndpoint(t.Context(), e.ID, "the endpoint answered 410 Gone"))
	b.signIn(t)

	p := b.get(t, endpointPath(e.ID))
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, `<span class="badge badge-disabled">disabled</span> `+
		`<span class="reason">the endpoint answered 410 Gone</span>`)
	require.Contains(t, p.body, `<button type="submit" id="enable">Enable</button>`)
	require.NotContains(t, p.body, `id="recover"`)

	refused := b.post(t, endpointPath(e.ID)+"/recover", url.Values{
		"csrf": {p.csrf(t)}, "since": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")},
	})
	require.Equal(t, http.StatusConflict, refused.status)
	require.Contains(t, refused.body, "This endpoint is disabled: re-enable it first.")

	enabled := b.post(t, endpointPath(e.ID)+"/enable", url.Values{"csrf": {p.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, enabled.status, enabled.body)
	require.Equal(t, endpointPath(e.ID)+"?done=enabled", enabled.location())

	got, err := b.store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.False(t, got.Disabled)
	require.Empty(t, got.DisabledReason)

	page := b.get(t, enabled.location())
	require.Contains(t, page.body, "Endpoint enabled.")
	require.Contains(t, page.body, `<span class="badge badge-enabled">enabled</span>`)
	require.Contains(t, page.body, `<button type="submit" id="recover">Recover</button>`)
	require.Contains(t, page.body, `value="`+e.CreatedAt.UTC().Format("2006-01-02T15:04:05")+`"`)

	recovered := b.post(t, endpointPath(e.ID)+"/recover", url.Values{
		"csrf": {p.csrf(t)}, "since": {e.CreatedAt.UTC().Format("2006-01-02T15:04:05")},
	})
	require.Equal(t, http.StatusSeeOther, recovered.status, recovered.body)

	recoveries, err := b.store.ListRecoveries(t.Context(), acme, e.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, recoveries, 1)
	require.Equal(t, 1, recoveries[0].Total, "the delivery of %s failed in the window", m.ID)
}

func TestEnablePrefillsTheLastSuccess(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.publish(t, "invoice.paid")

	started := time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Add(300 * time.Millisecond)
	id, err := messages.NewAttemptID(started)
	require.NoError(t, err)
	require.NoError(t, b.store.RecordAttempt(t.Context(), messages.Attempt{
		ID: id, MessageID: m.ID, EndpointID: e.ID, Number: 1, StartedAt: started,
		StatusCode: http.StatusOK, Succeeded: true,
	}, messages.StatusSucceeded, ""))
	b.signIn(t)

	p := b.get(t, endpointPath(e.ID))
	require.Contains(t, p.body, `value="`+started.Format("2006-01-02T15:04:05")+`"`)
}

func TestRecoverPrefillStaysWithinTheWindowLimit(t *testing.T) {
	t.Parallel()

	var (
		b    = setup(t)
		long = messages.MaxRecoveryWindow + 10*24*time.Hour
	)

	// An endpoint made long ago that never succeeded.
	old, err := subscriptions.NewEndpoint(acme,
		subscriptions.EndpointParams{URL: "https://example.com/old"})
	require.NoError(t, err)
	old.CreatedAt = old.CreatedAt.Add(-long)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), old))

	// An endpoint whose last success was long ago.
	lapsed := b.endpoint(t, "")
	started := time.Now().UTC().Add(-long).Truncate(time.Microsecond)
	id, err := messages.NewAttemptID(started)
	require.NoError(t, err)
	require.NoError(t, b.store.RecordAttempt(t.Context(), messages.Attempt{
		ID: id, MessageID: b.publish(t, "invoice.paid").ID, EndpointID: lapsed.ID, Number: 1,
		StartedAt: started, StatusCode: http.StatusOK, Succeeded: true,
	}, messages.StatusSucceeded, ""))
	b.signIn(t)

	sinceRe := regexp.MustCompile(`<input id="since" name="since" [^>]* value="([^"]+)">`)

	for _, endpointID := range []string{old.ID, lapsed.ID} {
		p := b.get(t, endpointPath(endpointID))
		require.Equal(t, http.StatusOK, p.status, p.body)

		m := sinceRe.FindStringSubmatch(p.body)
		require.NotNil(t, m, p.body)

		since, err := time.Parse("2006-01-02T15:04:05", m[1])
		require.NoError(t, err)
		earliest := time.Now().Add(time.Hour - messages.MaxRecoveryWindow)
		require.WithinDuration(t, earliest, since, time.Minute,
			"the window starts as early as it may, with an hour to send the form")

		// The form as prefilled is accepted.
		form := url.Values{"csrf": {p.csrf(t)}, "since": {m[1]}}
		sent := b.post(t, endpointPath(endpointID)+"/recover", form)
		require.Equal(t, http.StatusSeeOther, sent.status, sent.body)
	}
}

func TestTenantPageShowsEndpointsAPageAtATime(t *testing.T) {
	t.Parallel()

	b := setup(t)

	endpoints := make([]subscriptions.Endpoint, 51)
	for i := range endpoints {
		endpoints[i] = b.endpoint(t, "")
	}

	// The console lists endpoints by id, which need not be the order they
	// were made in within one millisecond.
	slices.SortFunc(endpoints, func(x, y subscriptions.Endpoint) int {
		return strings.Compare(x.ID, y.ID)
	})

	b.signIn(t)

	first := b.get(t, "/console/tenants/acme")
	require.Equal(t, http.StatusOK, first.status)
	require.Contains(t, first.body, `href="`+endpointPath(endpoints[49].ID)+`"`)
	require.NotContains(t, first.body, endpoints[50].ID)

	more := `<a href="/console/tenants/acme?endpoints_after=` + endpoints[49].ID + `">More endpoints</a>`
	require.Contains(t, first.body, more)

	second := b.get(t, "/console/tenants/acme?endpoints_after="+endpoints[49].ID)
	require.Contains(t, second.body, `href="`+endpointPath(endpoints[50].ID)+`"`)
	require.NotContains(t, second.body, `href="`+endpointPath(endpoints[0].ID)+`"`)
	require.NotContains(t, second.body, "More endpoints")

	// A filter on an endpoint of another page keeps it selected.
	filtered := b.get(t, "/console/tenants/acme?endpoint="+endpoints[50].ID)
	require.Contains(t, filtered.body, `<option value="`+endpoints[50].ID+`" selected>`)
}

func TestDeliveryPageShowsTheNewestAttempts(t *testing.T) {
	t.Parallel()

	b := setup(t)
	e := b.endpoint(t, "")
	m := b.publish(t, "invoice.paid")

	for range 101 {
		b.fail(t, m.ID, e.ID, http.StatusServiceUnavailable, "")
	}

	b.signIn(t)

	p := b.get(t, deliveryPath(m.ID, e.ID))
	require.Equal(t, http.StatusOK, p.status)
	require.Equal(t, 100, strings.Count(p.body, `<td class="num status-code">503</td>`))
	require.Contains(t, p.body, "Newest first; older attempts are not shown")
	require.Contains(t, p.body, `<span class="muted">empty</span>`)
}

func TestAStoreFaultShowsAnErrorPage(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.signIn(t)
	require.NoError(t, b.db.Close())

	p := b.get(t, "/console/tenants")
	require.Equal(t, http.StatusInternalServerError, p.status)
	require.Contains(t, p.body, "Something went wrong on Herald&#39;s side.")
	require.Contains(t, b.log.String(), `level=ERROR msg="console request"`)
	require.NotContains(t, b.log.String(), testKey)

	login := b.post(t, "/console/login", url.Values{"key": {testKey}})
	require.Equal(t, http.StatusInternalServerError, login.status)
	require.Empty(t, login.header.Values("Set-Cookie"))
}
