package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/store"
)

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server token", stderr)
	where := addAuthFlags(fs)
	office := fs.String("office", "", "office id the token belongs to (\"*\" for an admin of every office; a metrics token is always \"*\")")
	role := fs.String("role", "", "ticket, counter, hall, clerk, admin, or metrics (Prometheus: reads /metrics only)")
	counter := fs.Int("counter", 0, "counter number, for --role counter")
	label := fs.String("label", "", "a name for the device or person, e.g. \"kiosk-lobby\"")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: queue-server token --data DIR|--store URL --office ID --role ticket|counter|hall|locker|clerk|admin [--counter N] [--label TEXT]\n       queue-server token --data DIR|--store URL --role metrics [--label TEXT]\n\nPrints a new bearer token on standard output. Only its hash is stored.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *role == string(server.RoleMetrics) && *office == "" {
		// The metrics are the whole server's.
		*office = server.AllOffices
	}
	switch {
	case *office == "":
		return usageError(fs, "--office is required")
	case !server.ValidRole(*role):
		return usageError(fs, fmt.Sprintf("--role %q: use ticket, counter, hall, clerk, admin or metrics", *role))
	case *role == string(server.RoleMetrics) && *office != server.AllOffices:
		return usageError(fs, "--role metrics reads the whole server's metrics: leave --office out (or give \"*\")")
	case *role == string(server.RoleCounter) && *counter < 1:
		return usageError(fs, "--role counter needs --counter N")
	case *role != string(server.RoleCounter) && *counter != 0:
		return usageError(fs, "--counter is only for --role counter")
	case *office == server.AllOffices && *role != string(server.RoleAdmin) && *role != string(server.RoleMetrics):
		return usageError(fs, "--office \"*\" is only for --role admin or metrics")
	}
	stores, err := where.open(ctx)
	if err != nil {
		return err
	}
	defer stores.close()
	secret, tok, err := stores.tokens.Create(store.Token{Office: *office, Role: *role, Counter: *counter, Label: *label})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	who := *role
	if tok.Counter > 0 {
		who += " " + strconv.Itoa(tok.Counter)
	}
	fmt.Fprintf(stderr, "token %s: %s of office %s; keep it secret, it is shown only now\n", tok.ID, who, tok.Office)
	return nil
}

func usageError(fs *flag.FlagSet, msg string) error {
	fs.Usage()
	return fmt.Errorf("%s", msg)
}

func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server tokens", stderr)
	where := addAuthFlags(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	stores, err := where.open(ctx)
	if err != nil {
		return err
	}
	defer stores.close()
	list, err := stores.tokens.List()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-10s  %-18s  %-8s  %-7s  %-20s  %s\n", "ID", "OFFICE", "ROLE", "COUNTER", "LABEL", "CREATED")
	for _, t := range list {
		c := ""
		if t.Counter > 0 {
			c = strconv.Itoa(t.Counter)
		}
		fmt.Fprintf(stdout, "%-10s  %-18s  %-8s  %-7s  %-20s  %s\n", t.ID, t.Office, t.Role, c, t.Label, t.Created.Format("2006-01-02 15:04"))
	}
	return nil
}

func runRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server revoke", stderr)
	where := addAuthFlags(fs)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	stores, err := where.open(ctx)
	if err != nil {
		return err
	}
	defer stores.close()
	found, err := stores.tokens.Revoke(fs.Arg(0))
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no token with id %q", fs.Arg(0))
	}
	if stores.shared {
		fmt.Fprintf(stdout, "token %s revoked; every node refuses it at once\n", fs.Arg(0))
		return nil
	}
	fmt.Fprintf(stdout, "token %s revoked; servers stop accepting it within 30 seconds\n", fs.Arg(0))
	return nil
}
