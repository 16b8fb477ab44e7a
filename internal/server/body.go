package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeBody reads the JSON request body into dst, refusing unknown fields,
// values of the wrong type, trailing data and bodies over the size limit.
// An empty body is an error when required and leaves dst unchanged when not.
func (h *handler) decodeBody(c echo.Context, dst any, required bool) error {
	return h.decodeBodyUpTo(c, dst, required, h.maxBodyBytes)
}

// decodeBodyUpTo is decodeBody with a body limit of its own.
func (h *handler) decodeBodyUpTo(c echo.Context, dst any, required bool, limit int64) error {
	req := c.Request()

	data, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, req.Body, limit))
	if err != nil {
		if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &apiError{kind: kindTooLarge, detail: "the body must be at most " + byteSize(tooLarge.Limit)}
		}

		return invalidRequest("", "reading the body failed: %v", err)
	}

	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return invalidRequest("", "a JSON body is required")
		}

		return nil
	}

	if !isJSON(req.Header.Get(echo.HeaderContentType)) {
		return &apiError{kind: kindMediaType, detail: "send the body as JSON, with Content-Type: application/json"}
	}

	return decodeJSON(data, dst)
}

// isJSON reports whether a Content-Type names JSON. A missing one is taken
// as JSON, for clients that send none.
func isJSON(contentType string) bool {
	if contentType == "" {
		return true
	}

	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}

	return mediaType == echo.MIMEApplicationJSON || strings.HasSuffix(mediaType, "+json")
}

func decodeJSON(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()

	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}

	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidRequest("", "the body must hold a single JSON value")
	}

	return nil
}

// jsonProblem words a decoding error, naming the field when there is one.
func jsonProblem(err error) error {
	var (
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)

	switch {
	case errors.As(err, &syntax):
		return invalidRequest("", "the body is not valid JSON (at byte %d): %v", syntax.Offset, err)
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return invalidRequest("", "the body must be a JSON object")
		}

		field := wrongType.Field

		return invalidRequest(field, "%s must be %s", field, jsonTypeName(wrongType.Type.Kind()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidRequest("", "the body is not valid JSON: it ends too early")
	}

	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return invalidRequest(name, "%s is not a known field", name)
	}

	return invalidRequest("", "the body is not valid JSON: %v", err)
}

// jsonTypeName names a Go kind the way a JSON user would.
func jsonTypeName(kind reflect.Kind) string {
	switch kind { //nolint:exhaustive // every other kind is a number in JSON
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}

	return "a number"
}

func byteSize(n int64) string {
	if n%1024 == 0 {
		return strconv.FormatInt(n/1024, 10) + " KiB"
	}

	return strconv.FormatInt(n, 10) + " bytes"
}
