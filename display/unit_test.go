package display

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
)

func TestPanel(t *testing.T) {
	tests := []struct {
		p       Panel
		w, h    int
		wantErr string
	}{
		{LandscapeHD, 1920, 1080, ""},
		{Panel{Width: 1920, Height: 1080, Rotation: 90}, 1080, 1920, ""},
		{Panel{Width: 1920, Height: 1080, Rotation: 45}, 0, 0, "rotation 45"},
		{Panel{Width: 0, Height: 1080}, 0, 0, "size 0x1080"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: error %v, want one saying %q", tt.p, err, tt.wantErr)
			}
			continue
		}
		if w, h := tt.p.Logical(); err != nil || w != tt.w || h != tt.h {
			t.Errorf("%+v: %dx%d, %v; want %dx%d", tt.p, w, h, err, tt.w, tt.h)
		}
	}
	// 15 mm on the default 21.5-inch full-HD panel is about 60 pixels.
	if px := 15 * LandscapeHD.PxPerMM(); px < 58 || px > 63 {
		t.Errorf("15 mm = %.1f px on a 21.5\" panel", px)
	}
	for _, rot := range []int{0, 90, 180, 270} {
		p := Panel{Width: 1920, Height: 1080, Rotation: rot}
		x, y := p.toLogical(fromLogical(p, 100, 200))
		if x != 100 || y != 200 {
			t.Errorf("rotation %d: round trip gives %v,%v", rot, x, y)
		}
	}
}

// FuzzScannerInput: whatever a scanner or keyboard types, the code holds
// only code letters and never grows past MaxCodeLength.
func FuzzScannerInput(f *testing.F) {
	f.Add("k7m2x9p4\n", true)
	f.Add("AB-CD 12 OI0 ąę", false)
	f.Fuzz(func(t *testing.T, typed string, enter bool) {
		k := NewKiosk(KioskConfig{Panel: LandscapeHD}, nil, nil)
		k.keys(&input{chars: []rune(typed), enter: enter}, time.Now())
		if len(k.code) > MaxCodeLength {
			t.Fatalf("code %q longer than %d", k.code, MaxCodeLength)
		}
		for _, r := range k.code {
			if !strings.ContainsRune(CodeAlphabet, r) {
				t.Fatalf("code %q holds %q", k.code, r)
			}
		}
	})
}

// A code whose visit was cancelled: the server's 409 reaches the kiosk as
// a refusal, and the kiosk says in the resident's language that the visit
// was cancelled, not that the code is wrong.
func TestKioskSaysTheVisitWasCancelled(t *testing.T) {
	want := map[string]string{
		"pl": "Ta wizyta została odwołana.",
		"en": "This visit was cancelled.",
		"lt": "Šis vizitas buvo atšauktas.",
		"ru": "Этот визит был отменён.",
		"uk": "Цей візит було скасовано.",
	}
	for lang, text := range want {
		k := NewKiosk(KioskConfig{Panel: LandscapeHD}, nil, nil)
		k.lang, k.code = lang, "K7M2X9P4"
		// As the device's client hands on the server's answer.
		err := fmt.Errorf("confirming a booked visit: %w", &protocol.APIError{Op: "confirming a booked visit", Status: 409,
			Body: protocol.ErrorResponse{Error: "the booking was cancelled", Reason: string(queue.ReasonCancelled)}})
		k.finish(Outcome{}, err, true)
		if k.mode != modeMessage || !strings.Contains(k.message, text) {
			t.Errorf("%s: the kiosk says %q, want %q", lang, k.message, text)
		}
	}
}

// TestLabelFit: a text that does not fit its box is first wrapped onto
// more lines, then shrunk down to its floor, then replaced by the office's
// short form; it is cut, visibly, only when none of that fits.
func TestLabelFit(t *testing.T) {
	const full, short = "Świadczenie wychowawcze 800+", "Św. wychowawcze 800+"
	l := label{text: full, short: short, font: bold, size: 40, minSize: 24, lines: 2}
	tests := []struct {
		name      string
		l         label
		box       rect
		want      []string
		shrunk    bool
		wantShort bool
	}{
		{"fits on one line", l, rect{0, 0, 700, 60}, []string{full}, false, false},
		{"wraps before it shrinks", l, rect{0, 0, 400, 110}, []string{"Świadczenie", "wychowawcze 800+"}, false, false},
		{"shrinks when two lines are too tall", l, rect{0, 0, 400, 60}, []string{full}, true, false},
		{"short form when the floor is not enough", l, rect{0, 0, 300, 35}, []string{short}, true, true},
		{"cut when even the short form does not fit", l, rect{0, 0, 200, 35}, nil, true, false},
		{"cut when there is no short form", label{text: full, font: bold, size: 40, minSize: 24}, rect{0, 0, 300, 35}, nil, true, false},
	}
	for _, tt := range tests {
		lines, f := tt.l.fit(tt.box)
		got := strings.Join(lines, " / ")
		if tt.want == nil {
			if !strings.HasSuffix(got, "…") {
				t.Errorf("%s: drawn %q, want a visible cut", tt.name, got)
			}
		} else if want := strings.Join(tt.want, " / "); got != want {
			t.Errorf("%s: drawn %q, want %q", tt.name, got, want)
		}
		if shrunk := f.Size < tt.l.size; shrunk != tt.shrunk || f.Size < tt.l.floor() {
			t.Errorf("%s: size %.1f of %.0f (floor %.0f), want shrunk %v", tt.name, f.Size, tt.l.size, tt.l.floor(), tt.shrunk)
		}
		if lines != nil && tt.want != nil {
			h := float64(len(lines)) * lineHeight(f.Size)
			for _, line := range lines {
				if w := advance(line, f); w > tt.box.w || h > tt.box.h+1 {
					t.Errorf("%s: %q is %.0fx%.0f, box %.0fx%.0f", tt.name, line, w, h, tt.box.w, tt.box.h)
				}
			}
		}
	}
}

// A ticket being issued when the device shuts down stops with the device:
// the action's goroutine takes the device's context, not a fresh one that
// would keep asking the server for ActionTimeout after kioskd was told to
// stop.
func TestKioskActionEndsWithTheDevice(t *testing.T) {
	device, stop := context.WithCancel(context.Background())
	defer stop()
	k := NewKiosk(KioskConfig{Panel: LandscapeHD, ActionTimeout: time.Hour, Context: device}, nil, nil)
	started, ended := make(chan struct{}), make(chan error, 1)
	k.c.mu.Lock()
	k.startAction("busy", func(ctx context.Context) (Outcome, error) {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return Outcome{}, ctx.Err()
	}, false)
	k.c.mu.Unlock()
	<-started
	stop()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the action ended with %v, want the device's cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the action still runs 10 s after the device stopped")
	}
}
