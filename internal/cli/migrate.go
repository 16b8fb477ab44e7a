package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (e env) migrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, revert or show the database schema",
		Args:  cobra.NoArgs,
	}

	var all bool

	down := &cobra.Command{
		Use:   "down",
		Short: "Revert Herald's latest migration (with --all: everything, River's too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.migrate(cmd, func(p *process) error {
				return p.db.down(cmd.Context(), p.logger, all)
			})
		},
	}
	down.Flags().BoolVar(&all, "all", false, "revert every migration, leaving no Herald or River table")

	cmd.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Apply every pending migration, River's and Herald's",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return e.migrate(cmd, func(p *process) error {
					return p.db.up(cmd.Context(), p.logger)
				})
			},
		},
		down,
		&cobra.Command{
			Use:   versionCmd,
			Short: "Print the applied schema versions",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return e.migrate(cmd, func(p *process) error { return p.printVersion(cmd) })
			},
		},
	)

	return cmd
}

// migrate runs fn on the database without applying migrations first, then
// prints the resulting versions.
func (e env) migrate(cmd *cobra.Command, fn func(*process) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}

	cfg.AutoMigrate = false // the command itself decides what to apply

	p, err := e.start(cmd.Context(), cmd.CommandPath(), cfg)
	if err != nil {
		return err
	}
	defer p.close()

	if err := fn(p); err != nil {
		return err //nolint:wrapcheck // schema wraps its errors
	}

	if cmd.Name() == versionCmd {
		return nil
	}

	return p.printVersion(cmd)
}

func (p *process) printVersion(cmd *cobra.Command) error {
	status, err := p.db.version(cmd.Context(), p.logger)
	if err != nil {
		return err //nolint:wrapcheck // schema wraps its errors
	}

	dirty := ""
	if status.Dirty {
		dirty = " (dirty: a migration failed halfway; fix the schema, then migrate again)"
	}

	_, err = fmt.Fprintf(cmd.OutOrStdout(), "herald schema version %d%s\nriver schema version %d\n",
		status.Herald, dirty, status.River)

	return err //nolint:wrapcheck // a write to the terminal
}
