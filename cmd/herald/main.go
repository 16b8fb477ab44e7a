// Command herald is Herald in one binary: serve runs the API and the worker
// together; api and worker run them apart; migrate manages the schema.
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
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	return cli.Run(ctx, args, os.Environ(), os.Stdout, os.Stderr) //nolint:wrapcheck // printed as is
}
