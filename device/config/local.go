package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DiscoverURL as [server] url asks kioskd to find the queue server on the
// local network by DNS-SD (the server advertises _numerek._tcp).
const DiscoverURL = "mdns"

// Local is what a device's own file says of the machine, read before the
// device knows whether it is paired: where the server is, the data
// folder, the status page, the panel and a ticket printer. A file that
// gives an office or a token is a device configured by hand (ByHand),
// read with Load as ever; one that does not belongs to a device that
// pairs with the server and takes the rest of its configuration from it.
type Local struct {
	// File is the file's path and Text its contents, which Layered reads
	// again over the server's settings.
	File string
	Text []byte
	// ByHand: the file gives the office or the token; no pairing.
	ByHand bool
	// ServerURL is the server's address; empty or DiscoverURL: find it
	// by DNS-SD.
	ServerURL string
	// Enrolment is the batch's enrolment secret from [server]
	// enrolment_file, sent in the pairing request so that the server
	// approves the device at once; empty: none (no setting, or no file
	// yet), an admin approves the code.
	Enrolment string
	DataDir   string
	Status    Status
	Screen    Screen
	// Printer is a ticket kiosk's printer (URI empty: none), on which
	// the pairing code is printed too.
	Printer Printer
}

// Discover reports whether the server is to be found by DNS-SD.
func (l *Local) Discover() bool { return l.ServerURL == "" || l.ServerURL == DiscoverURL }

// ReadLocal reads a device's own file. Settings that only the server's
// settings may complete (the role, the name) are not judged here; the
// machine's facts are, with the file's line numbers.
func ReadLocal(path string) (*Local, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the device configuration: %w", err)
	}
	var f file
	src, err := decode(path, data, &f)
	if err != nil {
		return nil, err
	}
	l := &Local{File: path, Text: data}
	s := f.Server
	if s.Office != "" || s.Token != "" || s.TokenFile != "" {
		l.ByHand = true
		return l, nil
	}
	c := &checker{dir: filepath.Dir(path), sources: []source{src}}
	for _, k := range src.md.Undecoded() {
		c.add(k.String(), "unknown setting")
	}
	if s.URL != "" && s.URL != DiscoverURL {
		c.serverURL(s.URL)
	}
	l.ServerURL = s.URL
	if s.EnrolmentFile != "" {
		l.Enrolment = c.enrolment(s.EnrolmentFile)
	}
	// The screen and the printer as a ticket kiosk's: the panel's own
	// size wins over the role's default in the layered configuration
	// anyway.
	cfg := &Config{Role: Role(f.Role)}
	c.screen(&f, cfg)
	if f.Printer.URI != "" {
		c.printer(&f, cfg)
	}
	c.status(&f, cfg)
	l.DataDir = c.relative(f.DataDir)
	if l.DataDir == "" {
		l.DataDir = defaultDataDir
	}
	l.Screen, l.Printer, l.Status = cfg.Screen, cfg.Printer, cfg.Status
	if _, err := c.finish(cfg); err != nil {
		return nil, err
	}
	return l, nil
}

// enrolment reads the enrolment secret's file: one line, no spaces. A
// file that is not there is no secret: the card gave none.
func (c *checker) enrolment(file string) string {
	path := c.relative(file)
	data, err := readSmallFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		c.add("server.enrolment_file", "cannot read it: %v", err)
		return ""
	}
	secret := strings.TrimSpace(string(data))
	if strings.ContainsAny(secret, " \t\r\n") || len(secret) > 200 {
		c.add("server.enrolment_file", "%s holds more than one enrolment secret (one line, no spaces, at most 200 characters)", path)
		return ""
	}
	return secret
}
