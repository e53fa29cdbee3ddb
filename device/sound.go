package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/audio/volume"
	"github.com/numerek/numerek/device/config"
)

// errNoSound says the device has no working sound output.
var errNoSound = errors.New("no sound device")

// soundOnce opens the speaker the first time it is needed: Oto allows one
// context per process, and a kiosk without a speaker should not open one.
type soundOnce struct {
	cfg config.Sound
	now func() time.Time
	// onSaid hears of each announcement heard to its end (the hall's
	// herald); nil elsewhere.
	onSaid func(audio.Call)
	log    *slog.Logger
	once   sync.Once
	ann    *audio.Announcer
	sink   *audio.OtoSink
	voice  *audio.Voices
	err    error
}

// announcer returns the announcer, or why there is none (said once in the
// log).
func (s *soundOnce) announcer() (*audio.Announcer, *audio.Voices, error) {
	s.once.Do(func() {
		s.voice, s.err = voicepacks.Load(audio.DefaultRate, s.log)
		if s.err == nil && s.cfg.Voices != "" {
			if err := s.voice.Load(os.DirFS(s.cfg.Voices)); err != nil {
				s.log.Error("loading the office's voice packs; using the built-in ones", "folder", s.cfg.Voices, "err", err)
			}
		}
		if s.err != nil {
			s.log.Error("no voices: calls are shown but not said", "err", s.err)
			return
		}
		schedule, err := volume.NewSchedule(s.cfg.Volume)
		if err != nil {
			s.err = err
			return
		}
		s.sink, err = audio.NewOtoSink(audio.OtoOptions{Rate: s.voice.Rate(), BufferSize: 50 * time.Millisecond})
		if err != nil {
			s.err = fmt.Errorf("%w (the log says why)", errNoSound)
			s.log.Warn("no sound device: calls are shown but not said", "err", err)
			return
		}
		s.ann, s.err = audio.NewAnnouncer(s.voice, s.sink, audio.AnnouncerOptions{Volume: schedule, Now: s.now, Log: s.log, OnSaid: s.onSaid})
	})
	return s.ann, s.voice, s.err
}

// close stops the announcer and lets the device finish what it buffered.
func (s *soundOnce) close() {
	if s.ann == nil {
		return
	}
	s.ann.Close()
	// close runs as the device shuts down, when its context has already
	// ended; the last words get their own short bound instead.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.sink.Drain(ctx)
	_ = s.sink.Close()
}

// test says a sample call (the service screen's button) and waits until
// it has been played.
func (s *soundOnce) test(ctx context.Context, lang string) error {
	a, _, err := s.announcer()
	if err != nil {
		return err
	}
	if err := a.Announce(audio.Call{Lang: lang, Ticket: "A123", Counter: 5}); err != nil {
		return err
	}
	if err := a.Wait(ctx); err != nil {
		return err
	}
	return s.sink.Drain(ctx)
}
