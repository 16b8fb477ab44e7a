package version_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/version"
)

func TestString(t *testing.T) { //nolint:paralleltest // it sets a package variable
	require.NotEmpty(t, version.String())

	old := version.Version
	t.Cleanup(func() { version.Version = old })

	version.Version = "v1.2.3"
	require.Equal(t, "v1.2.3", version.String())
}
