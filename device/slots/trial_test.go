package slots

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A trial against the real backend on a card of FAT images; only the
// reboot is recorded instead of done.
func TestTrial(t *testing.T) {
	for _, tc := range []struct {
		name       string
		booted     string
		healthy    bool
		want       Outcome
		wantBoot   Autoboot
		wantReboot bool
	}{
		{"healthy in time: committed", SlotB, true, Committed, Autoboot{Primary: SlotB, Tryboot: SlotA}, false},
		{"never healthy: rolled back", SlotB, false, RolledBack, Autoboot{Primary: SlotA, Tryboot: SlotA}, true},
		{"booted the primary: nothing to decide", SlotA, false, NotOnTrial, Autoboot{Primary: SlotA, Tryboot: SlotB}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, Autoboot{Primary: SlotA, Tryboot: SlotA}, SlotA)
			card.mustCall("set-state", "B", "bad")
			card.mustCall("set-primary", "B") // as rauc install leaves it
			card.boot(tc.booted)
			healthy := filepath.Join(t.TempDir(), "healthy")
			if tc.healthy {
				if err := os.WriteFile(healthy, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rebooted := false
			var log bytes.Buffer
			trial := Trial{
				Card:     card.Card,
				Healthy:  healthy,
				Within:   300 * time.Millisecond,
				MarkGood: func(context.Context) error { _, err := card.call("set-state", "B", "good"); return err },
				MarkBad:  func(context.Context) error { _, err := card.call("set-state", "B", "bad"); return err },
				Reboot:   func(context.Context) error { rebooted = true; return nil },
				Poll:     10 * time.Millisecond,
				Log:      &log,
			}
			got, err := trial.Run(context.Background())
			if err != nil || got != tc.want {
				t.Fatalf("Run = %q, %v; want %q\n%s", got, err, tc.want, log.String())
			}
			if rebooted != tc.wantReboot {
				t.Errorf("rebooted = %v, want %v", rebooted, tc.wantReboot)
			}
			if a := card.autoboot(); a != tc.wantBoot {
				t.Errorf("autoboot = %+v, want %+v", a, tc.wantBoot)
			}
		})
	}
}

// kioskd gets healthy while the trial waits: committed at once, long
// before the time is up.
func TestTrialCommitsWhenHealthyAppears(t *testing.T) {
	card := newTestCard(t, Autoboot{Primary: SlotA, Tryboot: SlotA}, SlotA)
	card.mustCall("set-primary", "B")
	card.boot(SlotB)
	healthy := filepath.Join(t.TempDir(), "healthy")
	waiting := make(chan struct{})
	trial := Trial{
		Card:    card.Card,
		Healthy: healthy,
		Within:  time.Hour,
		MarkGood: func(context.Context) error {
			_, err := card.call("set-state", "B", "good")
			return err
		},
		MarkBad: func(context.Context) error { t.Error("marked bad"); return nil },
		Reboot:  func(context.Context) error { t.Error("rebooted"); return nil },
		Poll:    5 * time.Millisecond,
		Log: writerFunc(func(p []byte) {
			select {
			case <-waiting:
			default:
				close(waiting)
			}
		}),
	}
	go func() {
		<-waiting // the trial has started and said so
		_ = os.WriteFile(healthy, nil, 0o644)
	}()
	got, err := trial.Run(context.Background())
	if err != nil || got != Committed {
		t.Fatalf("Run = %q, %v", got, err)
	}
	if a := card.autoboot(); a.Primary != SlotB {
		t.Fatalf("autoboot = %+v, want B primary", a)
	}
}

type writerFunc func(p []byte)

func (w writerFunc) Write(p []byte) (int, error) { w(p); return len(p), nil }
