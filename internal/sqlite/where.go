package sqlite

import "strings"

// Id prefixes of the resources whose ids the queries bound by time, see
// [messages.IDAt].
const (
	messagePrefix = "msg"
	attemptPrefix = "atm"
)

// where gathers the conditions of a WHERE clause, joined by AND, with the
// arguments of their ? placeholders in order. Conditions are added only
// for the filters set, so that SQLite plans each query from the indexes
// that serve it, rather than around terms that test whether a filter is
// set.
type where struct {
	conds []string
	args  []any
}

// String returns the conditions joined by AND.
func (w *where) String() string {
	return strings.Join(w.conds, " AND ")
}

// add appends cond with the arguments of its placeholders.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}
