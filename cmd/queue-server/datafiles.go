package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/numerek/numerek/store"
)

// The data directory's files that hold data, relative to it. Office logs
// are offices/ID.db; a backup copy has the same layout.
const (
	officesDir = "offices"
	webFile    = "web.db"
	tokensFile = "tokens.db"
	clerksFile = "clerks.db"
	// devicesFile holds the paired devices and enrolment batches.
	devicesFile = "devices.db"
	keyFile     = "web.key"
	// vapidKeyFile is the key Web Push is sent with (server/push).
	vapidKeyFile = "vapid.key"
)

// officeFiles lists the office logs in dir/offices, by name; leftovers
// (.new, .recovered, .damaged-…) are not logs.
func officeFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, officesDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".db") {
			out = append(out, filepath.Join(officesDir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server check", stderr)
	dataDir := fs.String("data", "numerek-data", "the server's data directory, or a backup copy of it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: queue-server check --data DIR\n\nReads every data file through (each office's log, web.db, tokens.db, clerks.db)\nand says what it finds. Exits 1 if anything is damaged. While a server runs on\nDIR, it checks a consistent copy the server makes.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if _, err := os.Stat(*dataDir); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	dir := *dataDir
	offices, err := officeFiles(dir)
	if err != nil {
		return err
	}
	// A running server holds its files: check the copy it makes instead
	// of reading files in the middle of its writes.
	if len(offices) > 0 {
		if _, err := store.CheckUnlocked(filepath.Join(dir, offices[0]), store.CheckFile); errors.Is(err, store.ErrLocked) {
			tmp, err := os.MkdirTemp("", "numerek-check-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			if _, err := fetchBackup(dir, tmp); err != nil {
				return fmt.Errorf("%s is in use by a running server, and getting a copy from it failed: %w", dir, err)
			}
			fmt.Fprintf(stdout, "a server is running on %s: checking a consistent copy it made just now\n", dir)
			dir = tmp
			if offices, err = officeFiles(dir); err != nil {
				return err
			}
		}
	}
	damaged, checked := 0, 0
	report := func(name string, rep *store.FileReport, summary string) {
		checked++
		if rep.OK() {
			fmt.Fprintf(stdout, "%s: ok: %s\n", name, summary)
			return
		}
		damaged++
		fmt.Fprintf(stdout, "%s: DAMAGED\n", name)
		for _, d := range rep.Damage {
			fmt.Fprintf(stdout, "    %s\n", d)
		}
		if len(rep.Unreadable) > 0 {
			fmt.Fprintf(stdout, "    events that cannot be read: %s\n", joinRanges(rep.Unreadable))
		}
	}
	for _, name := range offices {
		rep, err := store.CheckOfficeFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		report(name, rep, fmt.Sprintf("office %s, %d events, last seq %d, snapshot seq %d", rep.Office, rep.Events, rep.LastSeq, rep.SnapshotSeq))
		if !rep.OK() {
			id := strings.TrimSuffix(filepath.Base(name), ".db")
			fmt.Fprintf(stdout, "    rebuild it with: queue-server recover --data %s --office %s [--backups DIR]\n", *dataDir, id)
		}
	}
	for _, name := range []string{webFile, tokensFile, clerksFile, devicesFile, fleetFile, outboxFile} {
		rep, err := store.CheckFile(filepath.Join(dir, name))
		if store.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		var counts []string
		for b, n := range rep.Records {
			counts = append(counts, fmt.Sprintf("%d %s", n, b))
		}
		sort.Strings(counts)
		if len(counts) == 0 {
			counts = []string{"empty"}
		}
		report(name, rep, strings.Join(counts, ", "))
	}
	if checked == 0 {
		return fmt.Errorf("no data files in %s", *dataDir)
	}
	if damaged > 0 {
		return fmt.Errorf("%d of %d data files in %s are damaged", damaged, checked, *dataDir)
	}
	return nil
}

func joinRanges(rs []store.SeqRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

func runRecover(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server recover", stderr)
	dataDir := fs.String("data", "numerek-data", "the server's data directory")
	office := fs.String("office", "", "the office to rebuild")
	configPath := fs.String("config", "", "office configuration (TOML), to replay the events by the office's rules; default: the built-in example office")
	backups := fs.String("backups", "", "a backup copy (made by queue-server backup) or a directory of daily copies ([backup] dir): start from the newest sound copy of the office")
	allowEmpty := fs.Bool("allow-empty", false, "start the office empty if nothing can be read and there is no backup")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: queue-server recover --data DIR --office ID [--config FILE] [--backups DIR]\n\nRebuilds an office's log from its newest backup copy and the events still\nreadable in its damaged file, into a new file. The damaged file is kept beside\nit as ID.db.damaged-TIME. Says what was lost. Stop the server first.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *office == "" {
		return usageError(fs, "--office is required")
	}
	cfg, _, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	var o = cfg.Offices[0]
	found := false
	for _, c := range cfg.Offices {
		if c.ID == *office {
			o, found = c, true
		}
	}
	if !found {
		return fmt.Errorf("--office %q is not in the configuration; give the server's --config", *office)
	}
	path := filepath.Join(*dataDir, officesDir, *office+".db")
	backup := ""
	if *backups != "" {
		if backup, err = newestBackup(*backups, *office); err != nil {
			return err
		}
	}
	rec, err := store.Recover(store.RecoverOptions{Path: path, Office: o, Backup: backup, AllowEmpty: *allowEmpty, Now: time.Now()})
	if err != nil {
		return fmt.Errorf("recovering %s: %w", path, err)
	}
	w := stdout
	fmt.Fprintf(w, "rebuilt %s: events 1-%d, office day %s\n", path, rec.LastSeq, rec.Day)
	if backup != "" {
		fmt.Fprintf(w, "  from the backup %s: events 1-%d\n", backup, rec.BackupSeq)
	}
	if rec.FromFile.From != 0 {
		fmt.Fprintf(w, "  from the damaged file: events %s\n", rec.FromFile)
	}
	if rec.Loose > 0 {
		fmt.Fprintf(w, "  %d events were read from pages the damaged file no longer pointed to\n", rec.Loose)
	}
	if rec.KeptAs != "" {
		fmt.Fprintf(w, "the damaged file is kept as %s\n", rec.KeptAs)
	}
	for _, d := range rec.Damage {
		fmt.Fprintf(w, "  damage found: %s\n", d)
	}
	if rec.Stopped != "" {
		fmt.Fprintf(w, "replaying stopped: %s\n", rec.Stopped)
	}
	if len(rec.Lost) == 0 && len(rec.Dropped) == 0 {
		fmt.Fprintf(w, "nothing was lost: the last good event is %d\n", rec.LastSeq)
		return nil
	}
	fmt.Fprintf(w, "LOST: the last good event is %d; the damaged file held events up to at least %d\n", rec.LastSeq, max(rec.FileLastSeq, rec.LastSeq))
	if len(rec.Lost) > 0 {
		fmt.Fprintf(w, "  unreadable: events %s\n", joinRanges(rec.Lost))
	}
	if len(rec.Dropped) > 0 {
		fmt.Fprintf(w, "  readable but after lost ones, so not replayed: events %s\n", joinRanges(rec.Dropped))
	}
	if len(rec.DroppedTickets) > 0 {
		fmt.Fprintf(w, "  these ticket numbers were already given and may be given again today: %s\n", strings.Join(rec.DroppedTickets, " "))
	}
	return nil
}

// newestBackup finds the office's file in a backup copy at dir, or in the
// newest of the daily copies under dir whose file checks sound.
func newestBackup(dir, office string) (string, error) {
	name := filepath.Join(officesDir, office+".db")
	if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
		return filepath.Join(dir, name), nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("--backups: %w", err)
	}
	var problems []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !e.IsDir() || !isBackupName(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name(), name)
		rep, err := store.CheckOfficeFile(path)
		if store.IsNotExist(err) {
			continue
		}
		if err == nil {
			err = rep.Err()
		}
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		return path, nil
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("--backups: no sound copy of office %s in %s: %s", office, dir, strings.Join(problems, "; "))
	}
	return "", fmt.Errorf("--backups: no copy of office %s in %s", office, dir)
}

// isBackupName says whether a directory name is a daily copy's (a date).
func isBackupName(name string) bool {
	_, err := time.Parse(time.DateOnly, name)
	return err == nil
}

// checkSideFiles checks the files the server opens only for a moment
// (tokens, clerks, devices), so a damaged one stops start-up like a damaged log
// instead of failing every request later.
func checkSideFiles(dataDir string) error {
	for _, name := range []string{tokensFile, clerksFile, devicesFile} {
		rep, err := store.CheckUnlocked(filepath.Join(dataDir, name), store.CheckFile)
		if store.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := rep.Err(); err != nil {
			return fmt.Errorf("%w\nsee `queue-server check --data %s`; restore it from a backup copy (queue-server backup, [backup])", err, dataDir)
		}
	}
	return nil
}
