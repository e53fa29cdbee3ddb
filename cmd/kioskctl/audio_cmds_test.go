package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/audiotest"
	"github.com/numerek/numerek/audio/voicepacks"
)

func runKioskctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAnnounceWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "pl", "--ticket", "A123", "--counter", "5"}, "numer A sto dwadzieścia trzy stanowisko numer pięć"},
		{[]string{"--lang", "pl", "--ticket", "b2", "--counter", "22", "--counter-word", "okienko"}, "numer B dwa okienko numer dwadzieścia dwa"},
		{[]string{"--lang", "en", "--ticket", "C215", "--counter", "3", "--counter-word", "room"}, "ticket C two hundred and fifteen please go to room three"},
		{[]string{"--lang", "lt", "--ticket", "A11", "--counter", "100"}, "numeris A vienuolika langelis numeris šimtas"},
		{[]string{"--lang", "ru", "--ticket", "D999", "--counter", "200", "--counter-word", "кабинет"}, "номер D девятьсот девяносто девять кабинет номер двести"},
		{[]string{"--lang", "uk", "--ticket", "E5", "--counter", "15"}, "номер E п'ять вікно номер п'ятнадцять"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runKioskctl(t, append([]string{"announce", "--words"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != tt.want+"\n" {
				t.Errorf("printed %q, want %q", stdout, tt.want+"\n")
			}
		})
	}
}

func expectedAnnouncement(t *testing.T, call audio.Call) []int16 {
	t.Helper()
	v, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := v.Compose(call)
	if err != nil {
		t.Fatal(err)
	}
	return v.Render(a).Samples
}

func TestAnnounceWAV(t *testing.T) {
	t.Parallel()
	for _, volume := range []float64{1, 0.5} {
		path := filepath.Join(t.TempDir(), "call.wav")
		code, _, stderr := runKioskctl(t, "announce", "--lang", "lt", "--ticket", "K7", "--counter", "2",
			"--counter-word", "kasa", "--wav", path, "--volume", strconvF(volume))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := audio.ReadWAV(data)
		if err != nil {
			t.Fatal(err)
		}
		want := audio.Scale(expectedAnnouncement(t, audio.Call{Lang: "lt", Ticket: "K7", Counter: 2, CounterWord: "kasa"}), volume)
		if w.Rate != audio.DefaultRate || len(w.Samples) != len(want) {
			t.Fatalf("WAV at %d Hz with %d samples, want %d Hz with %d", w.Rate, len(w.Samples), audio.DefaultRate, len(want))
		}
		for i, v := range want {
			if got := math.Round(w.Samples[i] * 32768); got != float64(v) {
				t.Fatalf("volume %v: sample %d = %v, want %d", volume, i, got, v)
			}
		}
	}
}

func strconvF(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestAnnounceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--counter", "5", "--words"}, 2, "--ticket is required"},
		{[]string{"--ticket", "A1", "--words"}, 2, "--counter is required"},
		{[]string{"--ticket", "A1000", "--counter", "5", "--words"}, 1, `ticket "A1000": number 1000 is out of range 0-999`},
		{[]string{"--ticket", "A1", "--counter", "1000", "--words"}, 1, "counter 1000 is out of range 0-999"},
		{[]string{"--lang", "de", "--ticket", "A1", "--counter", "5", "--words"}, 1, `unknown language "de"`},
		{[]string{"--ticket", "A1", "--counter", "5", "--volume", "2"}, 1, "--volume 2 is outside 0-1"},
		{[]string{"--ticket", "A1", "--counter", "5", "--voices", "/nonexistent", "--words"}, 1, "loading voice packs from /nonexistent"},
		{[]string{"--ticket", "A1", "--counter", "5", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runKioskctl(t, append([]string{"announce"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// copyPack copies the built-in pack of lang into a new folder and returns it.
func copyPack(t *testing.T, lang string) string {
	t.Helper()
	sub, err := fsSub(lang)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), lang)
	if err := os.CopyFS(dir, sub); err != nil {
		t.Fatal(err)
	}
	return dir
}

func editManifest(t *testing.T, dir string, edit func(*audio.Manifest)) {
	t.Helper()
	path := filepath.Join(dir, audio.ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := audio.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	edit(&m)
	if data, err = audio.MarshalManifest(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAnnounceWithOfficePack: an office's pack loaded with --voices replaces
// the built-in one; a word it lacks is left out and logged.
func TestAnnounceWithOfficePack(t *testing.T) {
	t.Parallel()
	dir := copyPack(t, "pl")
	editManifest(t, dir, func(m *audio.Manifest) { delete(m.Clips, "sto") })
	code, stdout, stderr := runKioskctl(t, "announce", "--voices", dir, "--ticket", "A123", "--counter", "5", "--words")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "numer A dwadzieścia trzy stanowisko numer pięć\n"; stdout != want {
		t.Errorf("printed %q, want %q", stdout, want)
	}
	for _, want := range []string{"voice pack clip unusable", "word=sto", "problem=missing", "missing=[sto]"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestVoiceCheckBuiltInPacks(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runKioskctl(t, "voice-check", filepath.Join("..", "..", "audio", "voicepacks"))
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stdout, stderr)
	}
	for _, lang := range audio.Languages() {
		if !strings.Contains(stdout, "voicepacks/"+lang+": "+lang+" pack, ") || strings.Count(stdout, ": ok\n") != 5 {
			t.Errorf("no ok line for %s:\n%s", lang, stdout)
		}
	}
}

func TestVoiceCheckBrokenPack(t *testing.T) {
	t.Parallel()
	dir := copyPack(t, "en")
	var m audio.Manifest
	editManifest(t, dir, func(mm *audio.Manifest) {
		delete(mm.Clips, "twenty-three")
		mm.Clips["zed-extra"] = "missing-file.wav"
		m = *mm
	})
	loud := make([]int16, 8000)
	for i := range loud {
		loud[i] = 32767 * int16(1-2*(i/40%2))
	}
	writeWAV(t, filepath.Join(dir, m.Clips["five"]), audio.PCM{Rate: 16000, Samples: loud})
	writeWAV(t, filepath.Join(dir, m.Clips["six"]), audio.PCM{Rate: 16000, Samples: make([]int16, 8000)})
	writeWAV(t, filepath.Join(dir, m.Clips["seven"]), audio.PCM{Rate: 22050, Samples: loud[:4000]})
	if err := os.WriteFile(filepath.Join(dir, m.Clips["eight"]), []byte("not a wav"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runKioskctl(t, "voice-check", dir)
	if code != 1 || !strings.Contains(stderr, "problem(s) found") {
		t.Errorf("exit %d, stderr %q; want exit 1 and a count", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		_, rest, _ := strings.Cut(line, ": ")
		got = append(got, rest)
	}
	want := []string{
		"en: twenty-three: missing: no clip in the manifest",
		"en: eight (eight.wav): bad-wav: eight.wav: not a WAV file (no RIFF/WAVE header)",
		"en: five (five.wav): clipped: 8000 samples in a row at full scale (8000 in all); record it quieter",
		"en: seven (seven.wav): wrong-rate: 22050 Hz, the manifest says 16000 Hz",
		"en: seven (seven.wav): clipped: 4000 samples in a row at full scale (4000 in all); record it quieter",
		"en: six (six.wav): silent: every sample is zero",
		"en: zed-extra (missing-file.wav): bad-wav: open missing-file.wav: no such file or directory",
		"en pack, 136 clips at 16000 Hz: 7 problem(s)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("voice-check printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestVoiceCheckUsage(t *testing.T) {
	t.Parallel()
	if code, _, stderr := runKioskctl(t, "voice-check"); code != 2 || !strings.Contains(stderr, "usage: kioskctl voice-check DIR") {
		t.Errorf("no DIR: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runKioskctl(t, "voice-check", filepath.Join(t.TempDir(), "none")); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing DIR: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runKioskctl(t, "voice-check", t.TempDir()); code != 1 || !strings.Contains(stderr, "no voice pack found") {
		t.Errorf("empty DIR: exit %d, %q", code, stderr)
	}
}

func writeWAV(t *testing.T, path string, p audio.PCM) {
	t.Helper()
	var buf bytes.Buffer
	if err := audio.WriteWAV(&buf, p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// announceChildEnv makes TestAnnounceChild run kioskctl announce in a child
// process playing into a capture device (ALSA reads HOME when the process
// opens sound; Oto allows one context per process).
const announceChildEnv = "NUMEREK_KIOSKCTL_ANNOUNCE_CHILD"

func TestAnnounceChild(t *testing.T) {
	args := os.Getenv(announceChildEnv)
	if args == "" {
		t.Skip("runs only as TestAnnouncePlays's child")
	}
	os.Exit(run(context.Background(), strings.Fields(args), os.Stdout, os.Stderr))
}

// TestAnnouncePlays runs kioskctl announce through Oto into ALSA's file
// output and checks the device received exactly the chime and the call.
func TestAnnouncePlays(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("plays several seconds of sound")
	}
	capture, err := audiotest.New(t.TempDir(), audio.DefaultRate, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAnnounceChild$")
	cmd.Env = append(capture.Env(), announceChildEnv+"=announce --lang ru --ticket A42 --counter 7 --counter-word касса")
	out, runErr := cmd.CombinedOutput()
	got, err := capture.Stop()
	if runErr != nil {
		t.Fatalf("kioskctl announce: %v\n%s", runErr, out)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := expectedAnnouncement(t, audio.Call{Lang: "ru", Ticket: "A42", Counter: 7, CounterWord: "касса"})
	end, inserted, err := audiotest.Find(got, 0, want)
	if err != nil {
		t.Fatalf("announcement not in the capture: %v\n%s", err, out)
	}
	if inserted > len(want)/4 {
		t.Errorf("%d samples of dropouts in %d", inserted, len(want))
	}
	if extra := slices.IndexFunc(got[end:], func(v float32) bool { return v != 0 }); extra >= 0 {
		t.Errorf("sound after the announcement at sample %d", end+extra)
	}
}

func fsSub(lang string) (fs.FS, error) { return fs.Sub(voicepacks.FS(), lang) }

// TestAnnounceWithoutSoundDevice: with no sound device at all, announce
// fails at once with an error naming what it tried, and nothing panics.
func TestAnnounceWithoutSoundDevice(t *testing.T) {
	t.Parallel()
	if cards, err := os.ReadFile("/proc/asound/cards"); err == nil && !strings.Contains(string(cards), "no soundcards") {
		t.Skip("this machine has a sound card, which Oto would find")
	}
	home := t.TempDir()
	// A default PCM that cannot open, and no PulseAudio.
	if err := os.WriteFile(filepath.Join(home, ".asoundrc"), []byte("pcm.!default {\n\ttype hw\n\tcard 99\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAnnounceChild$")
	cmd.Env = append(os.Environ(), "HOME="+home, "PULSE_SERVER=unix:"+filepath.Join(home, "none"),
		announceChildEnv+"=announce --ticket A1 --counter 2")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("announce without a device: %v, want exit 1\n%s", err, out)
	}
	for _, want := range []string{"kioskctl announce: opening sound device:", "PulseAudio:", "ALSA:", `"default"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "panic") {
		t.Errorf("panicked:\n%s", out)
	}
}
