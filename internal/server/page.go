package server

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/validation"
)

// Page sizes of list routes.
const (
	defaultLimit = 50
	maxLimit     = 250
)

// page is a validated limit and the position a cursor points after.
type page struct {
	limit int
	after string
}

// parsePage checks the limit and cursor query parameters.
func parsePage(limit *int, cursor *string) (page, error) {
	p := page{limit: defaultLimit}

	var errs validation.Errors

	if limit != nil {
		if *limit < 1 || *limit > maxLimit {
			errs.Addf("limit", "must be between 1 and %d", maxLimit)
		}

		p.limit = *limit
	}

	if cursor != nil && *cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(*cursor)
		if err != nil || len(after) == 0 || !utf8.Valid(after) || bytes.IndexByte(after, 0) >= 0 {
			errs.Addf("cursor", "is not a cursor this API returned")
		}

		p.after = string(after)
	}

	return p, invalidParam(errs.Err())
}

// nextCursor returns the cursor of the page after items, which were read
// with one more row than the limit, and the items trimmed to the limit.
// The cursor is nil on the last page.
func nextCursor[T any](items []T, limit int, key func(T) string) ([]T, *string) {
	if len(items) <= limit {
		return items, nil
	}

	items = items[:limit]
	cursor := base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))

	return items, &cursor
}
