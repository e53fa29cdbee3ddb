package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/audio/volume"
)

// audioCommands are the kioskctl subcommands for the audio part of a device.
func audioCommands() []command {
	return []command{
		{name: "announce", summary: "say a ticket call through the speaker (or print its words, or write it as WAV)", run: runAnnounce},
		{name: "voice-check", summary: "list missing or malformed clips of a voice pack folder", run: runVoiceCheck},
	}
}

func runAnnounce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("announce", stderr)
	lang := fs.String("lang", "pl", "language: "+strings.Join(audio.Languages(), ", "))
	ticket := fs.String("ticket", "", "ticket as printed, e.g. A123 (required)")
	counter := fs.Int("counter", -1, "counter number 0-999 (required)")
	counterWord := fs.String("counter-word", "", "word before the counter number, e.g. okienko (default: the language's own, pl stanowisko)")
	printWords := fs.Bool("words", false, "print the words it would say on one line and play nothing")
	wavFile := fs.String("wav", "", "write the announcement (chime and speech) to this WAV file and play nothing")
	voiceDir := fs.String("voices", "", "folder of voice packs (or one pack) to use over the built-in ones")
	volume := fs.Float64("volume", 1, "volume 0-1")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kioskctl announce --lang LANG --ticket A123 --counter 5 [--counter-word W] [--words] [--wav FILE]")
		fmt.Fprintln(stderr, "\n--words prints a prefix letter as the letter itself (A), every other word as spoken.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *ticket == "":
		fmt.Fprintln(stderr, "kioskctl announce: --ticket is required")
		return errUsage
	case *counter < 0:
		fmt.Fprintln(stderr, "kioskctl announce: --counter is required (0-999)")
		return errUsage
	case *volume < 0 || *volume > 1:
		return fmt.Errorf("--volume %v is outside 0-1", *volume)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	voices, err := loadVoices(*voiceDir, log)
	if err != nil {
		return err
	}
	call := audio.Call{Lang: *lang, Ticket: *ticket, Counter: *counter, CounterWord: *counterWord}
	ann, err := voices.Compose(call)
	if err != nil {
		return err
	}
	if len(ann.Missing) > 0 {
		log.Warn("voice pack lacks clips; saying the call without them", "missing", ann.Missing)
	}

	switch {
	case *printWords:
		_, err := fmt.Fprintln(stdout, strings.Join(ann.Words, " "))
		return err
	case *wavFile != "":
		return writeAnnouncementWAV(*wavFile, voices, ann, *volume)
	}
	return playAnnouncement(ctx, voices, call, *volume, log)
}

// loadVoices returns the built-in packs, with the packs in dir (if given)
// loaded over them.
func loadVoices(dir string, log *slog.Logger) (*audio.Voices, error) {
	voices, err := voicepacks.Load(audio.DefaultRate, log)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if err := voices.Load(os.DirFS(dir)); err != nil {
			return nil, fmt.Errorf("loading voice packs from %s: %w", dir, err)
		}
	}
	return voices, nil
}

func writeAnnouncementWAV(path string, voices *audio.Voices, ann audio.Announcement, volume float64) error {
	pcm := voices.Render(ann)
	pcm.Samples = audio.Scale(pcm.Samples, volume)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing announcement: %w", err)
	}
	if err := audio.WriteWAV(f, pcm); err != nil {
		f.Close()
		return fmt.Errorf("writing announcement to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing announcement to %s: %w", path, err)
	}
	return nil
}

// playAnnouncement says call through the sound device and returns once it has
// been heard.
func playAnnouncement(ctx context.Context, voices *audio.Voices, call audio.Call, vol float64, log *slog.Logger) error {
	sink, err := audio.NewOtoSink(audio.OtoOptions{Rate: voices.Rate()})
	if err != nil {
		return err
	}
	defer sink.Close()
	schedule, err := volume.NewSchedule([]volume.Step{{From: "00:00", Volume: vol}})
	if err != nil {
		return err
	}
	a, err := audio.NewAnnouncer(voices, sink, audio.AnnouncerOptions{Volume: schedule, Log: log})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Announce(call); err != nil {
		return err
	}
	if err := a.Wait(ctx); err != nil {
		return fmt.Errorf("playing announcement: %w", err)
	}
	if err := sink.Drain(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("playing announcement: %w", err)
	}
	return nil
}

func runVoiceCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("voice-check", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kioskctl voice-check DIR")
		fmt.Fprintln(stderr, "\nDIR is one pack (a folder with manifest.json) or a folder of packs.")
		fmt.Fprintln(stderr, "Lists clips that are missing, unreadable, at the wrong rate, not mono, clipped,")
		fmt.Fprintln(stderr, "silent, too long or untrimmed; exits 1 if there is any.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("checking voice packs: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("checking voice packs: %s is not a folder", dir)
	}
	return checkVoicePacks(os.DirFS(dir), dir, stdout)
}
