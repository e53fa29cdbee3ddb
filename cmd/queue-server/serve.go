package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/numerek/numerek"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/protocol/dnssd"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/bundles"
	"github.com/numerek/numerek/server/cluster"
	"github.com/numerek/numerek/server/devices"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/metrics"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/tlsfront"
	"github.com/numerek/numerek/stats"
	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server", stderr)
	showVersion := fs.Bool("version", false, "print queue-server's version and exit")
	configPath := fs.String("config", "", "office configuration (TOML); default: the built-in example office")
	dataDir := fs.String("data", "numerek-data", "directory for the event logs and tokens (with --store: for the web data, the fleet's files and the keys only)")
	var cf clusterFlags
	fs.StringVar(&cf.store, "store", "", "keep the offices' event logs, the tokens, clerks and devices in PostgreSQL (postgres://USER:PASSWORD@HOST/DATABASE) instead of in --data; run `queue-server migrate --store URL` first; several nodes may share it (docs/cluster.md)")
	fs.StringVar(&cf.node, "node", "", "with --store: this node's name among the queue servers sharing the database; default: the host name")
	fs.StringVar(&cf.nodeURL, "node-url", "", "with --store: the address the other nodes reach this one at, to forward the commands of the offices it writes (http://10.0.0.11:8080); default: http://127.0.0.1 and --listen's port")
	fs.StringVar(&cf.secretFile, "cluster-secret-file", "", "with --store: a file holding the secret the nodes sharing the database forward commands to each other with (the same file on every node); without it, this node forwards and accepts none, so it must be the only one")
	listen := fs.String("listen", ":8080", "address to serve HTTP on (with HTTPS on: the redirect to HTTPS and ACME's http-01 challenges; :80 for those)")
	var hf httpsFlags
	fs.StringVar(&hf.listen, "listen-https", "", "address to serve HTTPS on; default: [server] https_listen of the config, or :443")
	fs.StringVar(&hf.acmeHosts, "acme-host", "", "serve HTTPS with a certificate by ACME (Let's Encrypt) for these host names, comma separated; default: [server] acme_hosts")
	fs.StringVar(&hf.certFile, "cert", "", "serve HTTPS with this certificate file (PEM, with its chain), read again when it changes; default: [server] cert_file")
	fs.StringVar(&hf.keyFile, "key", "", "the certificate's private key file (PEM); default: [server] key_file")
	clockFlag := fs.String("clock", "", "FOR TESTS AND DEMOS: start the clock at this office-local time (2006-01-02T15:04:05), or \"open\" for the next time the office is open")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	publicURL := fs.String("public-url", "", "address residents' phones reach the server at (e-ticket QR codes, booking links); default: [server] public_url of the config")
	purgeEvery := fs.Duration("purge-every", time.Hour, "how often personal data past its retention is purged")
	fleetEvery := fs.Duration("test-fleet-every", 0, "FOR TESTS: ask devices to report their health this often instead of every 30 s, with the fleet's other times in proportion: Offline after three intervals, faults told after two, silence told once Offline (docs/devices-health.md)")
	maxBundleMB := fs.Int64("max-bundle-mb", bundles.DefaultMaxSize>>20, "the largest system update bundle admins may upload, in MB (docs/updates.md)")
	advertise := fs.Bool("advertise", false, "advertise the server on the office's network by multicast DNS ("+dnssd.Service+"), so devices with [server] url = \"mdns\" find it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: queue-server [flags]\n       queue-server token|tokens|revoke|clerk|clerks|check|backup|recover ... (see queue-server token -h, clerk -h, check -h)\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, "queue-server", version)
		return nil
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	cfg, source, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	clock, err := makeClock(*clockFlag, cfg.Offices[0])
	if err != nil {
		return err
	}
	if *clockFlag != "" {
		logger.Warn("TEST CLOCK: the server's clock is not the real time; for tests and demos only", "now", clock().In(cfg.Offices[0].Location).Format(time.DateTime))
	}
	if err := os.MkdirAll(filepath.Join(*dataDir, "offices"), 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}
	nodes, err := cf.open(ctx, *listen, logger)
	if err != nil {
		return err
	}
	defer nodes.close()

	if *publicURL == "" {
		*publicURL = cfg.Server.PublicURL
	}
	var shared *pgstore.DB
	if nodes != nil {
		shared = nodes.db
	}
	wp, err := openWeb(ctx, *dataDir, *publicURL, shared, clock, logger)
	if err != nil {
		return err
	}
	defer wp.db.Close()

	// The metrics' registry is this run's own (none global): Go's and the
	// process's figures beside the server's.
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	meter := metrics.New(registry, logger)

	var actors []*actor.Actor
	// logs are the offices' bbolt files (none on PostgreSQL, which is
	// backed up by its own tools); scanners read any store's history.
	var logs []*store.OfficeLog
	scanners := map[string]stats.Scanner{}
	defer func() {
		for _, l := range logs {
			l.Close()
		}
	}()
	for _, o := range cfg.Offices {
		opts := actor.Options{Observer: meter.Office(o.ID)}
		var log actor.Log
		if nodes != nil {
			po, shared := nodes.office(o.ID)
			log, opts.Cluster, scanners[o.ID] = po, shared, po.Scan
		} else {
			l, err := store.OpenOfficeLog(filepath.Join(*dataDir, "offices", o.ID+".db"), o.ID)
			if err != nil {
				if errors.Is(err, store.ErrLocked) {
					return fmt.Errorf("%w: is another queue-server running on %s?", err, *dataDir)
				}
				if de := (*store.DamagedError)(nil); errors.As(err, &de) {
					return fmt.Errorf("office %s: %w\nnothing was started: see `queue-server check --data %s`, then rebuild it with `queue-server recover --data %s --office %s --backups DIR`", o.ID, err, *dataDir, *dataDir, o.ID)
				}
				return err
			}
			logs = append(logs, l)
			log, scanners[o.ID] = l, l.Scan
		}
		a, err := actor.New(o, log, clock, logger, opts)
		if err != nil {
			return err
		}
		actors = append(actors, a)
	}
	var tokens server.Tokens
	var fileTokens *store.TokenStore
	var sharedTokens *pgstore.TokenStore
	var deviceStore devices.Store
	if nodes != nil {
		sharedTokens = nodes.db.Tokens()
		tokens, deviceStore, wp.clerks = sharedTokens, nodes.db.Devices(), nodes.db.Clerks()
	} else {
		fileTokens = store.NewTokenStore(filepath.Join(*dataDir, tokensFile))
		tokens, deviceStore = fileTokens, store.NewDeviceStore(filepath.Join(*dataDir, devicesFile))
		if err := checkSideFiles(*dataDir); err != nil {
			return err
		}
	}
	messages, err := openMessages(*dataDir, *publicURL, shared, cfg, clock, logger)
	if err != nil {
		return err
	}
	if messages != nil {
		defer messages.Close()
		// messages is the notice.Sender the booking desk and the e-ticket
		// hand their notices to; the admins' page lists it. (Set only
		// when there is one: a nil *Outbox in the interface would not be
		// nil.) With [devices] alerts alone, it carries those only:
		// residents are told nothing, as before.
		wp.outbox = messages
		if cfg.Messages.Enabled() {
			wp.notices, wp.desk.Notices = messages, messages
		}
	}
	hub := fleet.NewHub(clock)
	var alerts notice.Sender
	if messages != nil {
		alerts = messages
	}
	if *fleetEvery > 0 {
		logger.Warn("TEST FLEET TIMES: devices report and are told offline far sooner than in an office; for tests only", "every", *fleetEvery)
	}
	health, fleetDB, err := openHealth(*dataDir, shared, cfg, hub, alerts, clock, testFleetTimes(*fleetEvery), logger)
	if err != nil {
		return err
	}
	defer fleetDB.Close()
	bundleOpts := bundles.Options{Dir: filepath.Join(*dataDir, bundlesDir), DB: fleetDB, Clock: clock, MaxSize: *maxBundleMB << 20}
	if shared != nil {
		bundleOpts.Shared = shared
	}
	bundleStore, err := bundles.Open(bundleOpts)
	if err != nil {
		return err
	}
	updates, err := fleet.NewUpdates(hub, fleetDB, clock, logger)
	if err != nil {
		return err
	}
	duty := nodes.fleetDuty()
	lockerNotices := openLockers(wp, messages, cfg, actors, clock, logger)
	srv := server.New(server.Config{
		Offices: actors, Tokens: tokens, Clock: clock, Logger: logger,
		Booking: wp.desk, Links: wp.links, TrustedProxies: cfg.Server.TrustedProxies,
		Metrics: meter,
		Devices: deviceStore, PublicURL: *publicURL,
		Fleet: hub, Health: health, Bundles: bundleStore, Updates: updates,
		LockerSecondFactor: lockerNotices,
	})
	meter.Watch(srv)
	if messages != nil {
		meter.WatchOutbox(messages)
	}
	if wp.voices, err = hallVoices(cfg.Server.HallVoices, logger); err != nil {
		return err
	}
	if err := wp.mount(srv, scanners, tokens, clock, logger); err != nil {
		return err
	}
	if nodes != nil {
		srv.Handle("/internal/", cluster.Handler(actors, nodes.secret, logger))
	}

	httpsCfg, err := hf.apply(cfg.Server.HTTPS)
	if err != nil {
		return usageError(fs, err.Error())
	}
	var front *tlsfront.Front
	var tlsLn net.Listener
	if httpsCfg.Enabled() {
		if front, err = newFront(httpsCfg, *dataDir, logger); err != nil {
			return err
		}
		if tlsLn, err = net.Listen("tcp", httpsCfg.Listen); err != nil {
			return fmt.Errorf("listening on %s for HTTPS: %w", httpsCfg.Listen, err)
		}
		defer tlsLn.Close()
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *listen, err)
	}
	if *advertise {
		// Devices speak to the API over plain HTTP on the office's
		// network even where residents get HTTPS (tlsfront.Devices).
		port := ln.Addr().(*net.TCPAddr).Port
		a, err := dnssd.Advertise(dnssd.AdvertiseOptions{Port: port})
		if err != nil {
			return err
		}
		defer a.Close()
		logger.Info("advertising the server on the network", "service", dnssd.Service, "port", port)
	}
	stopData := startDataServices(*dataDir, cfg, logs, wp.db, fileTokens, heldFiles{fleet: fleetDB, outbox: messages}, clock, logger)
	defer stopData()
	actorCtx, stopActors := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, a := range actors {
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(actorCtx) }()
	}
	if nodes != nil {
		wg.Add(1)
		// A token revoked on another node is refused here at once.
		go func() { defer wg.Done(); sharedTokens.Watch(actorCtx, logger, srv.TokensChanged) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); wp.desk.RunPurge(actorCtx, *purgeEvery) }()
	wg.Add(1)
	if duty != nil {
		// On a shared database one node at a time runs the fleet, from
		// the state the last one left in it.
		go func() {
			defer wg.Done()
			duty.run(actorCtx, func(ctx context.Context) error {
				if err := health.Reload(); err != nil {
					return err
				}
				if err := updates.Reload(); err != nil {
					return err
				}
				return bundleStore.Reload(ctx)
			}, health.Run, logger)
		}()
	} else {
		go func() { defer wg.Done(); health.Run(actorCtx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); lockerNotices.Run(actorCtx, *purgeEvery) }()
	// The configuration is read only here: hours closed since the last
	// start (a holiday added, an afternoon closed) cancel the bookings in
	// them now, and their residents are told.
	for _, a := range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := wp.desk.CancelOutsideHours(actorCtx, a); err != nil {
				logger.Error("cancelling bookings in hours the office closed", "office", a.Office().ID, "err", err)
			}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); wp.web.RunPush(actorCtx, *purgeEvery) }()
	if messages != nil && cfg.Messages.Enabled() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reminders(messages, wp, wp.links, cfg, actors, clock, logger).Run(actorCtx)
		}()
	}
	httpSrv := srv.HTTPServer()
	httpSrv.Handler = duty.gate(httpSrv.Handler)
	servers := []*http.Server{httpSrv}
	httpsErr, httpsFailed := make(chan error, 1), make(chan error, 1)
	if front != nil {
		httpsSrv := srv.HTTPServer()
		httpsSrv.Handler = front.Secure(duty.gate(httpsSrv.Handler))
		httpsSrv.TLSConfig = front.TLSConfig()
		// Failed handshakes (the internet's scanners, and a certificate
		// the ACME authority would not give) go to the server's log.
		httpsSrv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
		httpSrv.Handler = tlsfront.Devices(httpSrv.Handler, front.Redirect(redirectPort(*publicURL, tlsLn)))
		servers = append(servers, httpsSrv)
		go func() { httpsErr <- httpsSrv.ServeTLS(tlsLn, "", "") }()
	}
	go func() {
		select {
		case <-ctx.Done():
		case err := <-httpsErr:
			httpsFailed <- err
		}
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			_ = s.Shutdown(shutdown)
		}
	}()
	ids := make([]string, 0, len(cfg.Offices))
	for _, o := range cfg.Offices {
		ids = append(ids, o.ID)
	}
	ready := []any{"listen", ln.Addr().String(), "config", source, "data", *dataDir, "offices", ids}
	if front != nil {
		ready = append(ready, "https", tlsLn.Addr().String(), "certificate", front.Describe())
	}
	logger.Info("queue server ready", ready...)
	err = httpSrv.Serve(ln)
	stopActors()
	wg.Wait()
	if nodes != nil {
		// Another node takes the offices over now, not a lease's time later.
		nodes.release()
	}
	select {
	case err := <-httpsFailed:
		return fmt.Errorf("serving HTTPS: %w", err)
	default:
	}
	if errors.Is(err, http.ErrServerClosed) {
		logger.Info("queue server stopped")
		return nil
	}
	return err
}

// loadConfig reads the config file, or the built-in example when none is given.
func loadConfig(path string) (*officeconfig.Config, string, error) {
	if path != "" {
		cfg, err := officeconfig.Load(path)
		return cfg, path, err
	}
	data, err := numerek.ExampleOffices.ReadFile(numerek.DefaultOfficeFile)
	if err != nil {
		return nil, "", err
	}
	name := "built-in " + numerek.DefaultOfficeFile
	cfg, err := officeconfig.Parse(name, data)
	return cfg, name, err
}

// makeClock returns the real clock, or for tests and demos a clock started
// at a given office-local time (or the next time the office is open) that
// then runs at normal speed.
func makeClock(spec string, o *queue.Office) (func() time.Time, error) {
	if spec == "" {
		return time.Now, nil
	}
	var start time.Time
	if spec == "open" {
		start = nextOpenMoment(o, time.Now())
	} else {
		t, err := time.ParseInLocation("2006-01-02T15:04:05", spec, o.Location)
		if err != nil {
			return nil, fmt.Errorf("--clock: %q is not 2006-01-02T15:04:05 or \"open\"", spec)
		}
		start = t
	}
	offset := time.Until(start)
	return func() time.Time { return time.Now().Add(offset) }, nil
}

// nextOpenMoment is now if the office is open with at least two hours left,
// else an hour after its next opening, so a demo shows open services.
func nextOpenMoment(o *queue.Office, now time.Time) time.Time {
	if _, closes, open := o.OpenInterval(now); open && closes.Sub(now) > 2*time.Hour {
		return now
	}
	t := now
	for i := 0; i < 30; i++ {
		next, ok := o.NextOpening(t)
		if !ok {
			return now
		}
		if _, closes, _ := o.OpenInterval(next); closes.Sub(next) > 3*time.Hour {
			return next.Add(time.Hour)
		}
		t = next
	}
	return now
}
