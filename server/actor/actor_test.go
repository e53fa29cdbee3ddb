package actor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

func newActor(t testing.TB, opts Options) (*Actor, func()) {
	t.Helper()
	cfg, err := officeconfig.Load("../../testdata/offices/starachowice.toml")
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	l, err := store.OpenOfficeLog(filepath.Join(t.TempDir(), "o.db"), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 7, 45, 0, 0, o.Location)
	t0 := time.Now()
	clock := func() time.Time { return start.Add(time.Since(t0)) }
	a, err := New(o, l, clock, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	return a, func() { cancel(); <-done; l.Close() }
}

func TestIssueSpeedProbe(t *testing.T) {
	a, stop := newActor(t, Options{})
	defer stop()
	services := []string{"family", "maintenance", "child800", "good-start", "care", "documents"}
	start := time.Now()
	for i := 0; i < 200; i++ {
		r := a.Do(context.Background(), "t", queue.Issue{Service: services[i%6], Lang: "pl", Channel: queue.ChannelKiosk, RequestID: fmt.Sprint(i)})
		if r.Err != nil {
			t.Fatalf("%d: %v", i, r.Err)
		}
	}
	t.Logf("300 sequential issues: %v", time.Since(start))
}
