package cli_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testdb"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browserStep bounds one step of a browser test: a page load, a click, a
// read.
const browserStep = 20 * time.Second

// screenshotEnv names a file to write a screenshot of the delivery page
// to, for the documentation. Unset, the test takes none.
const screenshotEnv = "CONSOLE_SCREENSHOT"

// requireChromium skips the test when Chromium is not installed, except in
// CI, where its absence fails the test.
func requireChromium(t *testing.T) {
	t.Helper()

	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", chromiumPath, err)
		}

		t.Skipf("%s is not installed: apt-get install chromium", chromiumPath)
	}
}

// browser is one headless Chromium with a fresh profile, and the base URL
// of the Herald it visits.
type browser struct {
	ctx  context.Context //nolint:containedctx // chromedp keeps the tab in it: it is the browser's handle
	base string

	// close stops the browser.
	close func()
}

// newBrowser starts a headless Chromium that visits the Herald at base,
// stopped when the test ends.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)

	b := &browser{ctx: ctx, base: base, close: func() {
		cancel()
		cancelAlloc()
	}}
	t.Cleanup(b.close)

	// The first action starts the browser, bound to ctx, which has no
	// deadline; the steps that follow each have one.
	require.NoError(t, chromedp.Do(ctx))

	return b
}

// do runs actions within one step's time.
func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()

	require.NoError(t, chromedp.Do(ctx, actions...))
}

// load runs actions that load a page and returns its HTTP status.
func (b *browser) load(t *testing.T, actions ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()

	res, err := chromedp.RunResponse(ctx, actions...)
	require.NoError(t, err)

	return res.Status
}

// text returns the text of the element the CSS selector finds.
func (b *browser) text(t *testing.T, selector string) string {
	t.Helper()

	return result(t, b, chromedp.Text(chromedp.CSS(selector)))
}

// result runs one action and returns its value.
func result[T any](t *testing.T, b *browser, action chromedp.Action[T]) T {
	t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()

	v, err := chromedp.Run(ctx, action)
	require.NoError(t, err)

	return v
}

// sessionCookie returns the browser's console session cookie, or nil.
func (b *browser) sessionCookie(t *testing.T) *network.Cookie {
	t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()

	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{
		URLs: []string{b.base + "/console/tenants"},
	})
	require.NoError(t, err)

	for _, c := range res.Cookies {
		if c.Name == "herald_session" {
			return c
		}
	}

	return nil
}

// answerFromNowOn makes the receiver answer every request to come with a.
func (r *receiver) answerFromNowOn(a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.script = []answer{a}
}

// TestConsoleResendsAFailedDelivery is what support does in the console:
// sign in, find the delivery that failed, read what the endpoint answered,
// resend it and see it succeed, in a real Chromium.
//
// It is not parallel: Chromium takes the machine's cores while it starts,
// and the package's parallel tests run after it.
func TestConsoleResendsAFailedDelivery(t *testing.T) { //nolint:paralleltest // see above
	requireChromium(t)

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		r := start(t, environ(db.URL, "HERALD_ALLOWED_NETWORKS=127.0.0.0/8",
			"HERALD_RETRY_SCHEDULE=0s,10ms"), "serve")
		base, key := r.await(t, listeningRe), r.await(t, keyRe)

		var (
			api       = newBundle(t, base, key)
			receiver  = newReceiver(t, reply(http.StatusInternalServerError))
			ep        = api.endpoint(t, receiver, client.EndpointInput{})
			published = api.publish(t, "invoice.paid", `{"n":1}`)
		)

		failed := deliveryTo(t, api.settled(t, published.Id), ep.Id)
		require.Equal(t, client.DeliveryStatusFailed, failed.Status)

		tries := len(receiver.received())
		receiver.answerFromNowOn(reply(http.StatusOK))

		b := newBrowser(t, base)
		signIn(t, b, key)
		deliveryURL := findFailedDelivery(t, b, published.Id, ep.Id)

		require.Equal(t, "failed", b.text(t, "#delivery-status"))
		require.Equal(t, "500", b.text(t, "#attempts tbody tr:first-child .status-code"))

		refuseWithoutCSRF(t, b)
		require.Len(t, receiver.received(), tries, "the refused form sent nothing")

		b.do(t, chromedp.Navigate(deliveryURL))
		require.EqualValues(t, http.StatusOK, b.load(t, chromedp.Click(chromedp.ID("resend"))))
		require.Contains(t, b.text(t, ".notice"), "Resend queued")

		awaitSucceeded(t, b)
		require.Contains(t, b.text(t, "#replays"), "resend")
		require.Contains(t, b.text(t, "#replays"), "(console)")
		require.Equal(t, "200", b.text(t, "#attempts tbody tr:first-child .status-code"))
		screenshot(t, b)

		got := receiver.received()
		require.Len(t, got, tries+1)
		require.Equal(t, published.Id, got[tries].id(), "the resend has the webhook-id of the message")
		require.Equal(t, client.DeliveryStatusSucceeded,
			deliveryTo(t, api.message(t, published.Id), ep.Id).Status)

		// Chromium keeps connections open, which Herald would wait for.
		b.close()
		require.NoError(t, r.stop(t))
		require.NotContains(t, r.stderr.String(), key, "the key must not reach the log")
	})
}

// signIn tries a wrong key, then signs in with key, from the keyboard.
func signIn(t *testing.T, b *browser, key string) {
	t.Helper()

	require.EqualValues(t, http.StatusOK, b.load(t, chromedp.Navigate(b.base+"/console")))
	// The browser gives the autofocus field the focus once the page is
	// shown, a moment after it has loaded.
	require.True(t, result(t, b, chromedp.Poll[bool](`document.activeElement?.id === "key"`,
		chromedp.WithPollingTimeout(browserStep))), "the key field has the focus")

	// Enter in the field submits the form.
	status := b.load(t, chromedp.SendKeys(chromedp.ID("key"), "hk_not-a-key-of-this-herald\r"))
	require.EqualValues(t, http.StatusUnauthorized, status)
	require.Equal(t, "That API key is not valid.", b.text(t, "#error"))
	require.Nil(t, b.sessionCookie(t))

	require.EqualValues(t, http.StatusOK, b.load(t, chromedp.SendKeys(chromedp.ID("key"), key+"\r")))
	require.True(t, strings.HasSuffix(result(t, b, chromedp.Location()), "/console/tenants"))

	cookie := b.sessionCookie(t)
	require.NotNil(t, cookie)
	require.True(t, cookie.HTTPOnly)
	require.Equal(t, network.CookieSameSiteStrict, cookie.SameSite)
	require.Equal(t, "/console", cookie.Path)

	// The first Tab reaches the skip link, outlined, and Enter follows it.
	b.do(t, chromedp.KeyEvent("\t"))
	require.Equal(t, "Skip to content",
		result(t, b, chromedp.Evaluate[string](`document.activeElement.textContent`)))
	require.Equal(t, "solid", result(t, b, chromedp.Evaluate[string](
		`getComputedStyle(document.activeElement).outlineStyle`)))

	b.do(t, chromedp.KeyEvent("\r"))
	require.Equal(t, "main", result(t, b, chromedp.Evaluate[string](`document.activeElement.id`)))
}

// findFailedDelivery picks the tenant, finds the message's failed delivery
// to the endpoint in the list and opens it. It returns the page's URL.
func findFailedDelivery(t *testing.T, b *browser, messageID, endpointID string) string {
	t.Helper()

	status := b.load(t, chromedp.Click(chromedp.CSS(`a[href="/console/tenants/acme"]`)))
	require.EqualValues(t, http.StatusOK, status)
	require.Contains(t, b.text(t, "#deliveries caption"), "Failed deliveries")

	path := "/console/tenants/acme/messages/" + messageID + "/endpoints/" + endpointID
	status = b.load(t, chromedp.Click(chromedp.CSS(`#deliveries a[href="`+path+`"]`)))
	require.EqualValues(t, http.StatusOK, status)

	return b.base + path
}

// refuseWithoutCSRF posts the resend form of the page without its CSRF
// token, and checks that the console refuses it.
func refuseWithoutCSRF(t *testing.T, b *browser) {
	t.Helper()

	b.do(t, chromedp.Evaluate[chromedp.Void](
		`document.querySelector('form[action$="/resend"] input[name="csrf"]').remove()`))

	status := b.load(t, chromedp.Click(chromedp.ID("resend")))
	require.EqualValues(t, http.StatusForbidden, status)
	require.Contains(t, b.text(t, "#error"), "did not come from a page of this console session")
}

// awaitSucceeded reloads the delivery page until it says the delivery
// succeeded.
func awaitSucceeded(t *testing.T, b *browser) {
	t.Helper()

	deadline := time.Now().Add(waitFor)

	for {
		status := b.text(t, "#delivery-status")
		if status == "succeeded" {
			return
		}

		require.True(t, time.Now().Before(deadline), "the delivery is still %q after %s", status, waitFor)
		time.Sleep(50 * time.Millisecond)
		require.EqualValues(t, http.StatusOK, b.load(t, chromedp.Reload()))
	}
}

// screenshot writes the page to the file screenshotEnv names, if any.
func screenshot(t *testing.T, b *browser) {
	t.Helper()

	path := os.Getenv(screenshotEnv)
	if path == "" {
		return
	}

	png := result(t, b, chromedp.CaptureScreenshot())
	require.NoError(t, os.WriteFile(path, png, 0o600))
}
