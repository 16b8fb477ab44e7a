package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// baselineParams says what the baseline sends.
type baselineParams struct {
	rec *receiver

	// prefix names the baseline's inboxes, one per endpoint of the run.
	prefix    string
	endpoints int

	requests    int
	concurrency int
}

// baseline sends p.requests signed webhooks straight to the receiver, spread
// over p.endpoints inboxes, from a plain http.Client with p.concurrency
// requests in flight. It returns requests per second: what this machine's
// HTTP stack does with the same receiver and no Herald in between.
func baseline(ctx context.Context, p baselineParams) (float64, error) {
	signers, urls, err := baselineInboxes(p)
	if err != nil {
		return 0, err
	}

	var (
		c     = newHTTPClient(p.concurrency)
		next  = make(chan int)
		errs  = make(chan error, p.concurrency)
		wg    sync.WaitGroup
		start = time.Now()
	)

	for range p.concurrency {
		wg.Go(func() {
			for i := range next {
				if err := sendSigned(ctx, c, urls[i%len(urls)], signers[i%len(urls)], i); err != nil {
					errs <- err
					return
				}
			}
		})
	}

	err = feed(ctx, next, p.requests, errs)
	wg.Wait()
	c.CloseIdleConnections()

	if err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}

	return perSecond(p.requests, time.Since(start)), nil
}

// feed sends 0 to n-1 on next, then closes it. It stops at the first error
// on errs.
func feed(ctx context.Context, next chan<- int, n int, errs <-chan error) error {
	defer close(next)

	for i := range n {
		select {
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err() //nolint:wrapcheck // the caller wraps
		case next <- i:
		}
	}

	return nil
}

// baselineInboxes opens the baseline's inboxes, each with a new secret.
func baselineInboxes(p baselineParams) ([]*standardwebhooks.Webhook, []string, error) {
	var (
		signers = make([]*standardwebhooks.Webhook, p.endpoints)
		urls    = make([]string, p.endpoints)
	)

	for i := range p.endpoints {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // never fails

		secret := "whsec_" + base64.StdEncoding.EncodeToString(key)

		url, err := p.rec.add(p.prefix+strconv.Itoa(i), secret, false)
		if err != nil {
			return nil, nil, err
		}

		signers[i], _ = standardwebhooks.NewWebhook(secret) // add checked it
		urls[i] = url
	}

	return signers, urls, nil
}

// sendSigned posts webhook i, signed as Herald signs it, and expects 204.
func sendSigned(
	ctx context.Context, c *http.Client, url string, signer *standardwebhooks.Webhook, i int,
) error {
	var (
		id   = "msg_baseline_" + strconv.Itoa(i)
		now  = time.Now()
		body = payload(i)
	)

	sig, err := signer.Sign(id, now, body)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}

	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)

	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}

	defer res.Body.Close()

	if res.StatusCode != http.StatusNoContent {
		return fmt.Errorf("post: %s", res.Status)
	}

	return nil
}
