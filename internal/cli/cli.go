// Package cli is Herald's command line: the herald command and its
// subcommands, and the wiring that turns configuration into a running API
// and worker.
package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/version"
)

// env is what a command reads from its surroundings.
type env struct {
	environ map[string]string
	stdout  io.Writer
	stderr  io.Writer
}

// Run executes the herald command line. args excludes the program name,
// environ holds the environment as "NAME=value" strings (os.Environ), and
// the command stops when ctx is done.
func Run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	e := env{environ: make(map[string]string, len(environ)), stdout: stdout, stderr: stderr}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		e.environ[name] = value
	}

	root := &cobra.Command{
		Use:   "herald",
		Short: "Herald delivers your events to your customers' webhook endpoints",
		Long: "Herald delivers your events to your customers' webhook endpoints,\n" +
			"signed with Standard Webhooks, retried until they succeed.\n\n" + envHelp(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		e.serveCommand(), //nolint:contextcheck // cobra passes ctx on through cmd.Context()
		e.apiCommand(), e.workerCommand(), e.migrateCommand(), versionCommand(),
	)

	return root.ExecuteContext(ctx) //nolint:wrapcheck // the commands wrap their own errors
}

// config reads the configuration from the command's environment.
func (e env) config() (config.Config, error) {
	cfg, err := config.Parse(e.environ)
	if err != nil {
		return config.Config{}, fmt.Errorf("configuration: %w", err)
	}

	return cfg, nil
}

// versionCmd names the commands that print versions.
const versionCmd = "version"

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   versionCmd,
		Short: "Print Herald's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "herald", version.String())
			return err //nolint:wrapcheck // a write to the terminal
		},
	}
}

// envHelp lists the environment variables for --help.
func envHelp() string {
	var b strings.Builder

	b.WriteString("Configuration comes from these environment variables:\n")

	for _, v := range config.Vars() {
		def := v.Default
		if def == "" {
			def = "unset"
		}

		fmt.Fprintf(&b, "  %-27s %s (default: %s)\n", v.Name, v.Description, def)
	}

	return b.String()
}
