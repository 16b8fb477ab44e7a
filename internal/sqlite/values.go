package sqlite

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// The schema keeps times as INTEGER Unix microseconds, JSON as TEXT and
// bytes as BLOB. The helpers below convert between those and Go values.

// micros returns t in Unix microseconds, as the schema stores times.
func micros(t time.Time) int64 {
	return t.UnixMicro()
}

// nullMicros is [micros], except that the zero time is stored as NULL.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}

	return micros(t)
}

// timeColumn scans Unix microseconds into a UTC time, and NULL into the
// zero time.
type timeColumn struct {
	t *time.Time
}

// Scan implements [database/sql.Scanner].
func (c timeColumn) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case nil:
		*c.t = time.Time{}
	default:
		return fmt.Errorf("scan %T into a time", src)
	}

	return nil
}

// jsonValue stores v as JSON text. A nil map or slice is stored as NULL,
// as pgx stores it, so that the NOT NULL columns refuse it on both
// databases.
type jsonValue struct {
	v any
}

// Value implements [database/sql/driver.Valuer].
func (j jsonValue) Value() (driver.Value, error) {
	if rv := reflect.ValueOf(j.v); (rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice) && rv.IsNil() {
		return nil, nil //nolint:nilnil // a nil driver.Value is SQL NULL
	}

	b, err := json.Marshal(j.v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}

	return string(b), nil
}

// jsonColumn scans JSON text into v, a pointer.
type jsonColumn struct {
	v any
}

// Scan implements [database/sql.Scanner].
func (c jsonColumn) Scan(src any) error {
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("scan %T into json", src)
	}

	if err := json.Unmarshal([]byte(s), c.v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}

	return nil
}

// bytesColumn scans a BLOB into a slice of its own, empty rather than nil
// when the BLOB is empty, as pgx returns an empty bytea.
type bytesColumn struct {
	b *[]byte
}

// Scan implements [database/sql.Scanner].
func (c bytesColumn) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*c.b = append([]byte{}, v...)
	case nil:
		*c.b = []byte{}
	default:
		return fmt.Errorf("scan %T into bytes", src)
	}

	return nil
}
