package slots

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Trial decides a boot on trial: the slot is kept (marked good, so it
// becomes the primary) once kioskd says it is healthy, and otherwise
// marked bad and left by a normal reboot, after which the firmware starts
// the primary, the slot that ran before the update.
type Trial struct {
	Card Card
	// Healthy is the file kioskd writes when its screen has drawn and the
	// server answered.
	Healthy string
	// Within is how long the new slot has to get healthy, from Run's start.
	Within time.Duration
	// MarkGood and MarkBad tell RAUC about the booted slot (rauc status
	// mark-good/mark-bad booted), which calls Card.Backend.
	MarkGood, MarkBad func(ctx context.Context) error
	// Reboot restarts the device normally (no tryboot flag).
	Reboot func(ctx context.Context) error
	// Poll is how often Healthy is looked for.
	Poll time.Duration
	Log  io.Writer
}

// Outcome is how a trial ended.
type Outcome string

const (
	NotOnTrial Outcome = "not on trial" // the booted slot is the primary
	Committed  Outcome = "committed"
	RolledBack Outcome = "rolled back"
)

// Run waits for the trial's end. On a boot that is no trial it returns at
// once.
func (t Trial) Run(ctx context.Context) (Outcome, error) {
	st, err := t.Card.Status()
	if err != nil {
		return "", err
	}
	if !st.OnTrial() {
		fmt.Fprintf(t.Log, "slot %s is the primary: no trial\n", st.Booted)
		return NotOnTrial, nil
	}
	fmt.Fprintf(t.Log, "slot %s on trial (primary %s): keeping it if %s appears within %v\n", st.Booted, st.Primary, t.Healthy, t.Within)
	deadline := time.NewTimer(t.Within)
	defer deadline.Stop()
	poll := time.NewTicker(t.Poll)
	defer poll.Stop()
	for {
		_, err := os.Stat(t.Healthy)
		if err == nil {
			if err := t.MarkGood(ctx); err != nil {
				return "", fmt.Errorf("committing slot %s: %w", st.Booted, err)
			}
			fmt.Fprintf(t.Log, "kioskd is healthy on slot %s: committed, it is the primary now\n", st.Booted)
			return Committed, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("looking for %s: %w", t.Healthy, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-poll.C:
			continue
		case <-deadline.C:
		}
		fmt.Fprintf(t.Log, "kioskd not healthy on slot %s within %v: rolling back to slot %s\n", st.Booted, t.Within, st.Primary)
		// Marked bad first, so that not even a tryboot starts it again; a
		// failure here must not keep the device on a slot that failed.
		if err := t.MarkBad(ctx); err != nil {
			fmt.Fprintf(t.Log, "marking slot %s bad: %v (rebooting all the same)\n", st.Booted, err)
		}
		if err := t.Reboot(ctx); err != nil {
			return "", fmt.Errorf("rebooting to roll back: %w", err)
		}
		return RolledBack, nil
	}
}
