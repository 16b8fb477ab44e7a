package bench

import (
	"time"
)

// tally is what a set of inboxes received of the messages published.
type tally struct {
	// delivered counts messages that arrived at an inbox, once each.
	delivered int

	// lost counts messages published that did not arrive at an inbox.
	lost int

	// duplicates counts arrivals of a webhook-id already received at the
	// same inbox.
	duplicates int

	// unknown counts webhook-ids that arrived but were never seen published:
	// a publish whose answer the benchmark did not get.
	unknown int

	verifyFailures int

	// hung counts requests held by hanging inboxes.
	hung int

	// latencies has one publish-to-receive time per delivered message.
	latencies []time.Duration

	// last is when the last delivered message arrived.
	last time.Time
}

// tally counts what the inboxes names received of sent, which maps each
// webhook-id published to when its publish began; hanging names only what
// the hanging inboxes held.
func (r *receiver) tally(names, hanging []string, sent map[string]time.Time) tally {
	r.mu.Lock()
	defer r.mu.Unlock()

	t := tally{latencies: make([]time.Duration, 0, len(names)*len(sent))}

	for _, name := range names {
		box := r.inboxes[name]
		t.duplicates += box.duplicates
		t.verifyFailures += box.verifyFailures

		for id, at := range box.arrived {
			published, ok := sent[id]
			if !ok {
				t.unknown++
				continue
			}

			t.delivered++
			t.latencies = append(t.latencies, at.Sub(published))

			if at.After(t.last) {
				t.last = at
			}
		}
	}

	for _, name := range hanging {
		t.hung += r.inboxes[name].hung
	}

	t.lost = len(names)*len(sent) - t.delivered

	return t
}
