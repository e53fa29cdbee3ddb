package device

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/firstboot"
	"github.com/numerek/numerek/device/pairing"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
)

// A ticket kiosk being paired prints each new code once, on the printer
// of its local file; the status page says the code.
func TestPairingPrintsEachCodeOnce(t *testing.T) {
	paper := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	spawn := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// As Pair's own: a print cut short by the end is no error
			// (the emulator has the ticket before the printer's last
			// status is read).
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	defer wg.Wait()
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	pc := config.Printer{URI: "emulator://" + paper, Profile: profiles.Default, Mode: "text"}
	pr := &pairingRun{fingerprint: "3f2a 9c01", server: "http://10.0.0.2:8080", log: log, changed: make(chan struct{}),
		screen:  display.NewPairing(display.PairingConfig{Panel: display.LandscapeHD}),
		printer: openPairingPrinter(ctx, pc, Options{Printers: emulator.Register(printer.Builtin())}, log)}
	if pr.printer == nil {
		t.Fatal("the emulated printer did not open")
	}
	tickets := func() int {
		n, _ := filepath.Glob(filepath.Join(paper, "*.png"))
		return len(n)
	}
	state := pairing.State{Code: "K7M2-X9P4", URI: "http://10.0.0.2:8080/staff/devices", URIComplete: "http://10.0.0.2:8080/staff/devices?code=K7M2X9P4"}
	for _, st := range []pairing.State{{}, state, {Code: state.Code, URI: state.URI, URIComplete: state.URIComplete, Unreachable: true}, state} {
		pr.set(ctx, st, spawn)
	}
	waitfor.Until(t, "the code's ticket", 10*time.Second, func() bool { return tickets() == 1 })
	if got := pr.status("test").Pairing.State; got != "unpaired, code K7M2-X9P4" {
		t.Errorf("status page says %q", got)
	}
	pr.set(ctx, pairing.State{Code: "H3WQ-7TNA", Refused: true, URI: state.URI, URIComplete: state.URI + "?code=H3WQ7TNA"}, spawn)
	waitfor.Until(t, "the new code's ticket", 10*time.Second, func() bool { return tickets() == 2 })
	cancel()
	wg.Wait()
	if tickets() != 2 {
		t.Errorf("%d tickets printed for two codes", tickets())
	}
}

// A card whose numerek.txt has mistakes: the pairing screen says the
// first, in Polish and in English, and how many more there are.
func TestPairingScreenSaysTheCardsMistake(t *testing.T) {
	_, err := firstboot.Parse([]byte("server = kolejka\nhostname = kiosk_1\n"), t.TempDir())
	var ps firstboot.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("parse: %v", err)
	}
	pr := &pairingRun{cardProblem: cardProblem(ps)}
	v := pr.view().CardProblem
	if !strings.HasPrefix(v.Polish, "wiersz 1: „kolejka” nie jest adresem serwera") || !strings.HasSuffix(v.Polish, "(+1)") {
		t.Errorf("in Polish: %q", v.Polish)
	}
	if !strings.HasPrefix(v.English, "line 1: “kolejka” is not a server") || !strings.HasSuffix(v.English, "(+1)") {
		t.Errorf("in English: %q", v.English)
	}
	if (&pairingRun{cardProblem: cardProblem(nil)}).view().CardProblem != (display.Bilingual{}) {
		t.Error("a right card shows a mistake")
	}
}
