// Package validation collects the broken rules of one input so that the API
// can answer them all at once, each naming its field.
package validation

import (
	"fmt"
	"strings"
)

// FieldError is one broken rule of one field. Field is a dotted path into
// the request body, such as "headers.Connection", or a parameter name.
type FieldError struct {
	Field  string
	Detail string
}

// Error is an input that breaks one or more rules. It is never empty.
type Error struct {
	Fields []FieldError
}

// Error lists every broken rule on one line.
func (e *Error) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Detail
	}

	return "invalid input: " + strings.Join(parts, "; ")
}

// Errors gathers field errors while an input is checked. The zero value is
// ready to use.
type Errors struct {
	fields []FieldError
}

// Addf records that field breaks the rule described by format and args.
func (e *Errors) Addf(field, format string, args ...any) {
	e.fields = append(e.fields, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// Err returns an [*Error] holding every recorded field error, or nil when
// none was recorded.
func (e *Errors) Err() error {
	if len(e.fields) == 0 {
		return nil
	}

	return &Error{Fields: e.fields}
}

// Fail returns an [*Error] about a single field.
func Fail(field, format string, args ...any) error {
	var errs Errors
	errs.Addf(field, format, args...)

	return errs.Err()
}
