// Command api runs Herald's API alone, for deployments that scale the API
// and the worker apart. It is the same as "herald api" and reads the same
// HERALD_* variables.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/heraldhq/herald/internal/cli"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "herald api:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	args = append([]string{"api"}, args...)

	return cli.Run(ctx, args, os.Environ(), os.Stdout, os.Stderr) //nolint:wrapcheck // printed as is
}
