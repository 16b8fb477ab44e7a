package api_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/api"
)

// TestSpecIsValidOpenAPI loads the served document with a full OpenAPI 3
// validator, so a broken reference or schema fails CI, not a client.
func TestSpecIsValidOpenAPI(t *testing.T) {
	t.Parallel()

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	require.Equal(t, "3.0.3", doc.OpenAPI)
	require.NotNil(t, doc.Paths.Find("/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/secret/rotate"))
}
