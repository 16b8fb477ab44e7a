package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/config"
)

// TestREADMEDocumentsEveryVariable keeps the README's configuration table
// in step with the variables Herald reads.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	t.Parallel()

	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)

	for _, v := range config.Vars() {
		row := "| `" + v.Name + "` | "
		if !strings.Contains(string(readme), row) {
			t.Fatalf("README.md has no table row for %s", v.Name)
		}

		if v.Default != "" {
			_, rest, _ := strings.Cut(string(readme), row)
			line, _, _ := strings.Cut(rest, "\n")
			require.Contains(t, line, "`"+v.Default+"`", "README.md gives the wrong default for %s", v.Name)
		}
	}
}

func TestTestVariablesAreIgnored(t *testing.T) {
	t.Parallel()

	_, err := config.Parse(map[string]string{
		"HERALD_DATABASE_URL":      "postgres://127.0.0.1/x",
		"HERALD_TEST_DATABASE_URL": "postgres://127.0.0.1/y",
	})
	require.NoError(t, err)
}
