// Command queue-sim simulates office days against the real queue engine and
// prints wait and service figures, and how well the engine's wait estimate
// did beside the usual formula:
//
//	go run ./cmd/queue-sim --config examples/offices/starachowice.toml [--seed N] [--days N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/queue/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "queue-sim:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("queue-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "office configuration file (TOML), required")
	officeID := fs.String("office", "", "office id in the file; default the first")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same days")
	days := fs.Int("days", 1, "office days to simulate")
	start := fs.String("start", sim.DefaultStart, "first date to simulate, YYYY-MM-DD (closed days are skipped)")
	load := fs.Float64("load", sim.DefaultLoad, "share of the counters' time residents' services fill on a typical day")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *config == "" {
		fs.Usage()
		return errors.New("--config is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := officeconfig.Load(*config)
	if err != nil {
		return err
	}
	office, err := pick(cfg.Offices, *officeID, *config)
	if err != nil {
		return err
	}
	date, err := time.ParseInLocation("2006-01-02", *start, office.Location)
	if err != nil {
		return fmt.Errorf("--start %q is not a date YYYY-MM-DD", *start)
	}
	if *load <= 0 || *load > 3 {
		return fmt.Errorf("--load %v must be above 0 and at most 3", *load)
	}
	res, err := sim.Run(ctx, sim.Config{
		Office: office, Profile: sim.DefaultProfile(office, *load), Seed: *seed, Days: *days, Start: date,
	})
	if err != nil {
		return err
	}
	return res.Report(stdout)
}

func pick(offices []*queue.Office, id, file string) (*queue.Office, error) {
	if len(offices) == 0 {
		return nil, fmt.Errorf("%s defines no office", file)
	}
	if id == "" {
		return offices[0], nil
	}
	var ids []string
	for _, o := range offices {
		if o.ID == id {
			return o, nil
		}
		ids = append(ids, o.ID)
	}
	return nil, fmt.Errorf("%s has no office %q (it has %v)", file, id, ids)
}
