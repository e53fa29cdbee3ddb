// Command queue-server owns an office's queues: the HTTP API, the event
// stream for devices and the web pages, on an event log in bbolt.
//
//	queue-server [--config FILE] [--data DIR] [--listen ADDR] [--clock TIME|open]
//	queue-server --version
//	queue-server token --data DIR|--store URL --office ID --role ROLE [--counter N] [--label TEXT]
//	queue-server tokens --data DIR|--store URL
//	queue-server revoke --data DIR|--store URL ID
//	queue-server clerk --data DIR|--store URL --name NAME --office ID [--role clerk|manager|admin] < password
//	queue-server clerks --data DIR|--store URL
//	queue-server check --data DIR
//	queue-server backup --data DIR --to DIR
//	queue-server recover --data DIR --office ID [--config FILE] [--backups DIR]
//	queue-server migrate --store postgres://…
//	queue-server migrate --from DIR --to postgres://…
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata"
)

// version is set at build time (-ldflags "-X main.version=..."); the
// Debian package sets its own version (make deb).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWithStdin(ctx, args, os.Stdin, stdout, stderr)
}

// runWithStdin is run reading a clerk's password from stdin.
func runWithStdin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "token":
		err = runToken(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "tokens":
		err = runTokens(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "revoke":
		err = runRevoke(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "clerk":
		err = runClerk(ctx, args[1:], stdin, stdout, stderr)
	case len(args) > 0 && args[0] == "clerks":
		err = runClerks(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "check":
		err = runCheck(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "backup":
		err = runBackup(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "recover":
		err = runRecover(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "migrate":
		err = runMigrate(ctx, args[1:], stdout, stderr)
	default:
		err = runServe(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "queue-server: %v\n", err)
	return 1
}

var errUsage = errors.New("usage")

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string, positional int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != positional {
		fmt.Fprintf(fs.Output(), "%s: expected %d argument(s), got %d\n", fs.Name(), positional, fs.NArg())
		fs.Usage()
		return errUsage
	}
	return nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
