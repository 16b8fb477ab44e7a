package subscriptions

import (
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/validation"
)

const (
	maxEventTypeLen   = 256
	maxEventTypeItems = 100
)

// ValidateEventType reports why name cannot be an event type: it must be 1
// to 256 characters of dot-separated segments of letters, digits, '_' and
// '-', such as "invoice.paid".
func ValidateEventType(name string) error {
	if !validEventType(name) {
		return validation.Fail("event_type",
			"must be dot-separated segments of letters, digits, '_' and '-', at most %d characters",
			maxEventTypeLen)
	}

	return nil
}

func checkEventTypeFilter(errs *validation.Errors, filter []string) {
	if len(filter) > maxEventTypeItems {
		errs.Addf("event_types", "must have at most %d items", maxEventTypeItems)
		return
	}

	for i, item := range filter {
		if !validFilterItem(item) {
			errs.Addf(fmt.Sprintf("event_types[%d]", i),
				"must be an event type such as invoice.paid, a prefix such as invoice.*, or *")
		}
	}
}

func validFilterItem(item string) bool {
	if item == "*" {
		return true
	}

	if len(item) > maxEventTypeLen {
		return false
	}

	return validEventType(strings.TrimSuffix(item, ".*"))
}

func validEventType(name string) bool {
	if name == "" || len(name) > maxEventTypeLen {
		return false
	}

	for segment := range strings.SplitSeq(name, ".") {
		if segment == "" {
			return false
		}

		for _, r := range segment {
			if !isEventTypeRune(r) {
				return false
			}
		}
	}

	return true
}

func isEventTypeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}
