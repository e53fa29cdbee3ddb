package firstboot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Options are where Run reads and writes: every path is under one of
// these roots, so that tests run in temporary folders.
type Options struct {
	// Boot is where the card's first (FAT) partition is mounted, holding
	// numerek.txt (/boot/numerek); a missing file leaves the settings
	// kept before as they are.
	Boot string
	// Data is the data partition (/data): the settings, the secrets,
	// kioskd's file and the SSH key are kept under it.
	Data string
	// Run is where the settings are applied for this boot (/run).
	Run string
	// Zoneinfo is the time zone database (/usr/share/zoneinfo).
	Zoneinfo string
	// SetHostname sets the running system's host name (sethostname(2));
	// nil: the host name is left alone.
	SetHostname func(name string) error
	// Kioskd owns the files kioskd reads that others may not (the
	// enrolment secret); nil: they stay root's.
	Kioskd *Owner
	Log    *slog.Logger
}

// Owner is a user and group by number.
type Owner struct{ UID, GID int }

// The files Run keeps and makes, relative to Options.Data and .Run.
const (
	// SettingsFile is the card's numerek.txt as last applied, with its
	// secrets taken out: what every boot applies.
	SettingsFile       = "etc/numerek/numerek.txt"
	EnrolmentFile      = "etc/numerek/enrolment"
	WifiPassphraseFile = "etc/numerek/wifi-passphrase"
	KioskdFile         = "etc/numerek/kioskd.toml"
	HostnameFile       = "etc/hostname"
	// LocaltimeFile is a symbolic link to the zone's file; the image's
	// /etc/localtime points at it.
	LocaltimeFile      = "etc/localtime"
	AuthorizedKeysFile = "ssh/authorized_keys"

	NetworkDir = "systemd/network"
	// WpaSupplicantFile is wlan0's configuration, which the image's
	// wpa_supplicant@wlan0 reads.
	WpaSupplicantFile = "numerek/wpa_supplicant-wlan0.conf"
	TimesyncdFile     = "systemd/timesyncd.conf.d/50-numerek.conf"
	// ProblemsFile holds what is wrong in numerek.txt while it cannot be
	// applied; kioskd's pairing screen shows it (ReadProblems).
	ProblemsFile = "numerek/numerek-txt-problems.json"
)

// Result is what Run did.
type Result struct {
	// Changed: the card's numerek.txt was new and is now kept.
	Changed bool
	// Problems are the mistakes of a numerek.txt that was not taken.
	Problems Problems
	// Settings are what was applied.
	Settings *Settings
}

// Run takes a changed numerek.txt (keeping its settings on the data
// partition and moving its secrets there, out of the FAT file) and then
// applies what is kept to this boot. A numerek.txt with mistakes is not
// taken: the settings kept before are applied and the mistakes are left
// in ProblemsFile. Every file on the data partition is replaced whole
// (written, synced, renamed) so that a power cut at any moment leaves
// the old one or the new one.
func Run(ctx context.Context, opts Options) (Result, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	var res Result
	problems, err := take(opts, &res)
	if err != nil {
		return res, err
	}
	res.Problems = problems
	if err := writeProblems(filepath.Join(opts.Run, ProblemsFile), problems); err != nil {
		return res, fmt.Errorf("leaving the problems of %s for kioskd: %w", FileName, err)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	s, err := kept(opts)
	if err != nil {
		return res, err
	}
	res.Settings = s
	return res, apply(opts, s)
}

// take keeps the card's numerek.txt when it is new and right; it returns
// its mistakes when it is not right.
func take(opts Options, res *Result) (Problems, error) {
	cardPath := filepath.Join(opts.Boot, FileName)
	card, err := readSmall(cardPath)
	if errors.Is(err, fs.ErrNotExist) {
		opts.Log.Info("no numerek.txt on the card; applying the settings kept", "card", cardPath)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the card's %s: %w", FileName, err)
	}
	settingsPath := filepath.Join(opts.Data, SettingsFile)
	if old, err := os.ReadFile(settingsPath); err == nil && bytes.Equal(old, card) {
		// A replacement cut short by a power cut after its rename
		// leaves nothing; one cut before it is done again below.
		return nil, removeFile(filepath.Join(opts.Boot, fatTemp))
	}
	s, err := Parse(card, opts.Zoneinfo)
	var problems Problems
	if errors.As(err, &problems) {
		opts.Log.Error("numerek.txt on the card has mistakes; applying the settings kept before", "problems", problems.Error())
		return problems, nil
	}
	if err != nil {
		return nil, err
	}
	// The secrets first: once the FAT file no longer holds them, the
	// data partition must.
	for _, sec := range []struct{ key, file, value string }{
		{KeyWifiPassphrase, WifiPassphraseFile, s.WifiPassphrase},
		{KeyEnrolment, EnrolmentFile, s.Enrolment},
	} {
		path := filepath.Join(opts.Data, sec.file)
		switch {
		case sec.value != "":
			owner := (*Owner)(nil)
			if sec.key == KeyEnrolment {
				owner = opts.Kioskd
			}
			if err := writeOwned(path, []byte(sec.value+"\n"), 0o600, owner); err != nil {
				return nil, fmt.Errorf("keeping %s on the data partition: %w", sec.key, err)
			}
		case s.Forget[sec.key]:
			if err := removeFile(path); err != nil {
				return nil, fmt.Errorf("forgetting %s: %w", sec.key, err)
			}
		}
	}
	cleaned := withoutSecrets(card, s)
	if err := writeFile(settingsPath, cleaned, 0o644); err != nil {
		return nil, fmt.Errorf("keeping the settings of %s: %w", FileName, err)
	}
	if !bytes.Equal(cleaned, card) {
		if err := replaceOnFAT(cardPath, cleaned); err != nil {
			// The settings and the secrets are kept: the next boot tries
			// again, as the card's file then differs from the kept one.
			return nil, fmt.Errorf("taking the secrets out of the card's %s: %w", FileName, err)
		}
	}
	res.Changed = true
	opts.Log.Info("numerek.txt taken", "settings", settingsPath)
	return nil, nil
}

// kept reads the settings kept on the data partition, with their
// secrets; none kept is all defaults.
func kept(opts Options) (*Settings, error) {
	data, err := os.ReadFile(filepath.Join(opts.Data, SettingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		data = nil
	} else if err != nil {
		return nil, fmt.Errorf("reading the settings kept: %w", err)
	}
	// Only a file that was right is kept, its zone checked then: an
	// updated system's time zone database lacking it must not cost the
	// network.
	s, err := Parse(data, "")
	if err != nil {
		return nil, fmt.Errorf("the settings kept in %s: %w", SettingsFile, err)
	}
	for _, sec := range []struct {
		file string
		into *string
	}{{WifiPassphraseFile, &s.WifiPassphrase}, {EnrolmentFile, &s.Enrolment}} {
		v, err := os.ReadFile(filepath.Join(opts.Data, sec.file))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("reading a secret kept: %w", err)
		default:
			*sec.into = strings.TrimSpace(string(v))
		}
	}
	return s, nil
}

// movedNote replaces a secret's line in the card's file: in Polish and
// English, as the example file's comments are.
func movedNote(key string) string {
	return "# " + key + ": przeniesione na urządzenie / moved to the device (a new line here replaces it; \"" + key + " =\" with nothing forgets it)"
}

func forgottenNote(key string) string {
	return "# " + key + ": zapomniane przez urządzenie / forgotten by the device"
}

// withoutSecrets is the card's file with each secret's line replaced by
// a comment saying where it went; every other byte (comments, line ends,
// a byte order mark) is kept.
func withoutSecrets(card []byte, s *Settings) []byte {
	secretAt := map[int]string{}
	for _, k := range SecretKeys {
		if n := s.Lines[k]; n > 0 {
			secretAt[n] = k
		}
	}
	if len(secretAt) == 0 {
		return card
	}
	hasBOM := bytes.HasPrefix(card, bom)
	var out bytes.Buffer
	if hasBOM {
		out.Write(bom)
	}
	for i, line := range bytes.SplitAfter(bytes.TrimPrefix(card, bom), []byte("\n")) {
		key, ok := secretAt[i+1]
		if !ok {
			out.Write(line)
			continue
		}
		end := line[len(bytes.TrimRight(line, "\r\n")):]
		if len(end) == 0 {
			end = []byte(lineEnd(card))
		}
		if s.Forget[key] {
			out.WriteString(forgottenNote(key))
		} else {
			out.WriteString(movedNote(key))
		}
		out.Write(end)
	}
	return out.Bytes()
}

// lineEnd is the file's way of ending lines: Notepad's CRLF or LF.
func lineEnd(card []byte) string {
	if bytes.Contains(card, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// readSmall reads a file of at most MaxFileSize (and one byte more, for
// Parse to refuse a larger one).
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, MaxFileSize+1)
	n, err := readFull(f, buf)
	return buf[:n], err
}
