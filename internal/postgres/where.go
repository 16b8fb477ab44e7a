package postgres

import (
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/messages"
)

// where builds the WHERE clause of a query whose filters are optional: it
// keeps the conditions that apply and numbers their arguments in turn.
type where struct {
	terms []string
	args  []any
}

// String returns the conditions joined by AND.
func (w *where) String() string {
	return strings.Join(w.terms, "\n\t\tAND ")
}

// add requires term, in which each ? stands for the next of args.
func (w *where) add(term string, args ...any) {
	for _, v := range args {
		term = strings.Replace(term, "?", w.arg(v), 1)
	}

	w.terms = append(w.terms, term)
}

// arg adds v to the arguments and returns its placeholder, for a value
// used outside the conditions, such as a LIMIT.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)

	return "$" + strconv.Itoa(len(w.args))
}

// The prefixes of the ids that bound a time window.
const (
	messagePrefix = "msg"
	attemptPrefix = "atm"
)

// idRange returns the bounds of the ids with prefix made in [since, until)
// that sort before before: lower is included, upper is not, and each is
// empty when that side is open. A zero time leaves its side open, as does
// an empty before. Ids sort by creation time, so a time window is a range
// of an index on ids.
func idRange(prefix string, since, until time.Time, before string) (lower, upper string) {
	if !since.IsZero() {
		lower = messages.IDAt(prefix, since)
	}

	upper = before
	if !until.IsZero() {
		if id := messages.IDAt(prefix, until); upper == "" || id < upper {
			upper = id
		}
	}

	return lower, upper
}
