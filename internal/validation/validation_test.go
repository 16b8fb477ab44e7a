package validation_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/validation"
)

func TestErrors(t *testing.T) {
	t.Parallel()

	var errs validation.Errors
	require.NoError(t, errs.Err())

	errs.Addf("url", "must be absolute")
	errs.Addf("headers.Host", "is set by Herald")

	var verr *validation.Error
	require.ErrorAs(t, errs.Err(), &verr)
	require.Equal(t, []validation.FieldError{
		{Field: "url", Detail: "must be absolute"},
		{Field: "headers.Host", Detail: "is set by Herald"},
	}, verr.Fields)
	require.Equal(t, "invalid input: url: must be absolute; headers.Host: is set by Herald", verr.Error())
}

func TestFail(t *testing.T) {
	t.Parallel()

	err := validation.Fail("limit", "must be at most %d", 250)

	var verr *validation.Error
	require.ErrorAs(t, err, &verr)
	require.Equal(t, []validation.FieldError{{Field: "limit", Detail: "must be at most 250"}}, verr.Fields)
}
