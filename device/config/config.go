// Package config reads a kioskd device configuration: one TOML file that
// gives the device its role (ticket kiosk, counter display, hall display
// or pickup locker), the server and office it works for, its token, its
// screen, and what its role needs (printer and number leases, counter
// number and buttons, sound, the locker's compartments and their pins). A wrong file is refused as a whole, with every problem
// named by file, line and setting.
package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/numerek/numerek/audio/volume"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/queue"
)

// Role is what a device does.
type Role string

// The roles of a device.
const (
	RoleTicket  Role = "ticket"  // the lobby kiosk: touch screen and ticket printer
	RoleCounter Role = "counter" // the number display above a counter, with optional buttons
	RoleHall    Role = "hall"    // the hall's big screen and speaker
	// RoleLocker is the document pickup locker: a touch screen with a
	// keypad and compartments, each with a lock and a door sensor on GPIO.
	RoleLocker Role = "locker"
)

// Config is a device's configuration, checked and with defaults filled in.
type Config struct {
	// File is where the configuration was read from.
	File string
	Role Role
	// Name names the device in logs, faults and the service screen.
	Name string
	// DataDir holds the device's own file (state, journal, leases).
	DataDir string
	// Languages: on the kiosk the language buttons in order, the first
	// the default; on the hall and counter the first is the screen's.
	Languages []string
	// TechnicianPIN opens the kiosk's service screen; empty: none.
	TechnicianPIN string

	Server  Server
	Screen  Screen
	Printer Printer
	Lease   Lease
	Counter Counter
	Buttons Buttons
	Sound   Sound
	Locker  Locker
	Status  Status
}

// Server is where the device gets its office from.
type Server struct {
	URL    string
	Office string
	Token  string
	// IssueTimeout bounds asking the server for a ticket; past it the
	// kiosk issues from its lease.
	IssueTimeout time.Duration
}

// Screen is the display.
type Screen struct {
	Width, Height int
	// Rotation turns the picture for a panel mounted on its side.
	Rotation int
	// WidthMM is the panel's visible width, for finger-sized buttons.
	WidthMM float64
	// Windowed shows a window instead of the full screen (development).
	Windowed bool
	// WindowScale sizes a window against the panel (0.5: half).
	WindowScale float64
	// IdleTimeout returns the kiosk to its start screen.
	IdleTimeout time.Duration
	// Message is the hall's bottom line.
	Message string
	// Blink is how long the hall's newest call blinks.
	Blink time.Duration
}

// Printer is the kiosk's ticket printer.
type Printer struct {
	URI     string
	Profile string
	// Mode is "text" (the printer's font where a code page allows) or
	// "raster" (every line drawn); printer.ParseMode reads it.
	Mode string
	// PaperMM narrows tickets to 58 mm paper on an 80 mm printer.
	PaperMM int
	// Logo is a PNG printed at the top of each ticket.
	Logo string
	// CheckEvery is how often the printer's status is read while idle.
	CheckEvery time.Duration
}

// Lease is how many numbers the kiosk keeps for offline issuing.
type Lease struct {
	// Size is how many numbers to ask for at once (at most 50).
	Size int
	// Low is when to ask for more: fewer numbers left than this.
	Low int
}

// Counter is the counter a counter display shows.
type Counter struct {
	Number int
}

// Button names one of the counter's buttons, as queue's table of the
// counter's actions names it (queue.CounterButtons).
type Button string

// The buttons a counter's box usually has.
const (
	ButtonNext    Button = "next"
	ButtonRecall  Button = "recall"
	ButtonFinish  Button = "finish"
	ButtonGood    Button = "good"
	ButtonNeutral Button = "neutral"
	ButtonBad     Button = "bad"
)

// AllButtons lists every button a counter's box may have, the usual six
// first: one for each counter action without parameters and one for each
// rating, from queue's table.
var AllButtons = tableButtons()

func tableButtons() []Button {
	var out []Button
	for _, b := range queue.CounterButtons() {
		out = append(out, Button(b.Name))
	}
	return out
}

// Buttons are the counter's GPIO buttons: pin names as periph.io knows
// them ("GPIO17"), by button. None at all means no buttons.
type Buttons struct {
	Pins map[Button]string
	// ActiveLow: a pressed button pulls its pin to ground (the usual
	// wiring, with the pin's pull-up on); false: it pulls it high.
	ActiveLow bool
	Debounce  time.Duration
}

// Sound is the hall's speaker.
type Sound struct {
	Enabled bool
	// Voices is a folder of recorded voice packs used over the built-in.
	Voices string
	// Volume is the loudness by time of day.
	Volume []volume.Step
	// AnnounceWithin: a call older than this when the hall first learns
	// of it (after a restart or a long break) is shown but not said.
	AnnounceWithin time.Duration
}

// Locker is the pickup locker a locker device drives: which of the
// office's lockers it is, and how each compartment is wired. The
// compartments themselves (their sizes, which are reachable from a
// wheelchair) are the office's configuration.
type Locker struct {
	// ID is the locker's id in the office's configuration.
	ID           string
	Compartments []LockerCompartment
}

// LockerCompartment is one compartment's wiring: pins by periph.io name
// ("GPIO17").
type LockerCompartment struct {
	// ID is the compartment's id in the office's configuration, as
	// painted on its door.
	ID string
	// LockPin drives the lock's relay: high for Pulse opens the lock.
	LockPin string
	// DoorPin reads the door's sensor; DoorClosedLow: the pin reads low
	// while the door is closed (a reed switch to ground, the pin's
	// pull-up on), else high (a switch to 3.3 V, the pull-down on).
	DoorPin       string
	DoorClosedLow bool
	// Pulse is how long the lock's relay is held.
	Pulse time.Duration
}

// Status is the device's local status page.
type Status struct {
	// Listen is where to serve it ("127.0.0.1:7070"); empty: nowhere.
	Listen string
}

// Error is one problem in a configuration file: file, line, setting
// (Path) and what is wrong, as the office configuration reports them.
type Error = officeconfig.Error

// Errors are every problem found in a file.
type Errors = officeconfig.Errors

// Duration is a TOML string like "1.5s" or "2m".
type Duration time.Duration

// UnmarshalText reads a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"1.5s\" or \"2m\"", b)
	}
	*d = Duration(v)
	return nil
}

// file mirrors the TOML layout.
type file struct {
	Role          string   `toml:"role"`
	Name          string   `toml:"name"`
	DataDir       string   `toml:"data_dir"`
	Languages     []string `toml:"languages"`
	TechnicianPIN string   `toml:"technician_pin"`
	Server        struct {
		URL       string `toml:"url"`
		Office    string `toml:"office"`
		Token     string `toml:"token"`
		TokenFile string `toml:"token_file"`
		// EnrolmentFile holds a batch's enrolment secret, sent when
		// the device pairs (read by ReadLocal).
		EnrolmentFile string    `toml:"enrolment_file"`
		IssueTimeout  *Duration `toml:"issue_timeout"`
	} `toml:"server"`
	Screen struct {
		Width       int       `toml:"width"`
		Height      int       `toml:"height"`
		Rotation    int       `toml:"rotation"`
		WidthMM     float64   `toml:"width_mm"`
		Windowed    bool      `toml:"windowed"`
		WindowScale float64   `toml:"window_scale"`
		IdleTimeout *Duration `toml:"idle_timeout"`
		Message     string    `toml:"message"`
		Blink       *Duration `toml:"blink"`
	} `toml:"screen"`
	Printer struct {
		URI        string    `toml:"uri"`
		Profile    string    `toml:"profile"`
		Mode       string    `toml:"mode"`
		PaperMM    int       `toml:"paper_mm"`
		Logo       string    `toml:"logo"`
		CheckEvery *Duration `toml:"check_every"`
	} `toml:"printer"`
	Lease struct {
		Size *int `toml:"size"`
		Low  *int `toml:"low"`
	} `toml:"lease"`
	Counter struct {
		Number int `toml:"number"`
	} `toml:"counter"`
	// Buttons holds a pin for each fitted button, by the button's name
	// (AllButtons), beside the settings "pressed" and "debounce": the
	// names come from queue's table, so the table is read as a map.
	Buttons map[string]any `toml:"buttons"`
	Sound   struct {
		Enabled        *bool         `toml:"enabled"`
		Voices         string        `toml:"voices"`
		Volume         []volume.Step `toml:"volume"`
		AnnounceWithin *Duration     `toml:"announce_within"`
	} `toml:"sound"`
	Locker struct {
		ID          string              `toml:"id"`
		Compartment []compartmentWiring `toml:"compartment"`
	} `toml:"locker"`
	Status struct {
		Listen string `toml:"listen"`
	} `toml:"status"`
}

// compartmentWiring is a [[locker.compartment]] as written.
type compartmentWiring struct {
	ID              string    `toml:"id"`
	LockPin         string    `toml:"lock_pin"`
	DoorPin         string    `toml:"door_pin"`
	DoorClosedLevel string    `toml:"door_closed_level"`
	Pulse           *Duration `toml:"pulse"`
}

// defaultDataDir is where a device keeps its files unless told.
const defaultDataDir = "/var/lib/kioskd"

// Load reads and checks the configuration at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the device configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and checks a configuration; path names it in errors and
// is where relative paths (token_file, data_dir, logo) start from.
func Parse(path string, data []byte) (*Config, error) {
	var f file
	src, err := decode(path, data, &f)
	if err != nil {
		return nil, err
	}
	c := &checker{dir: filepath.Dir(path), sources: []source{src}}
	for _, k := range src.md.Undecoded() {
		c.add(k.String(), "unknown setting")
	}
	return c.finish(c.convert(&f))
}

// source is one TOML text a configuration is read from, for errors that
// name the file and line a setting came from.
type source struct {
	path  string
	lines officeconfig.Lines
	md    toml.MetaData
}

// decode reads TOML into f; settings it leaves alone keep what f had, so
// a later text overrides an earlier one key by key.
func decode(path string, data []byte, f *file) (source, error) {
	md, err := toml.Decode(string(data), f)
	if err != nil {
		line, key, msg := officeconfig.DecodeProblem(err)
		if strings.Contains(msg, key) {
			key = ""
		}
		return source{}, Errors{{File: path, Line: line, Path: key, Message: msg}}
	}
	return source{path: path, lines: officeconfig.IndexLines(string(data)), md: md}, nil
}

func (c *checker) finish(cfg *Config) (*Config, error) {
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			if c.errs[i].File != c.errs[j].File {
				return c.errs[i].File < c.errs[j].File
			}
			return c.errs[i].Line < c.errs[j].Line
		})
		return nil, c.errs
	}
	return cfg, nil
}

// The settings a device keeps to itself when its configuration comes from
// the server: where the server is, its credentials, its data folder and
// its status page are facts of the machine, not of the office.
var localOnly = []string{"server", "data_dir", "status"}

// SettingsName names the server's settings of a device in errors.
const SettingsName = "settings"

// CheckSettings checks a device's settings as the server keeps them: the
// TOML of a device's file without [server], data_dir and [status]. It
// reads them with the same rules as a file, so the admin's page shows the
// same errors a technician's file would get, with line numbers.
func CheckSettings(settings []byte) error {
	var f file
	src, err := decode(SettingsName, settings, &f)
	if err != nil {
		return err
	}
	c := &checker{dir: ".", sources: []source{src}}
	for _, k := range src.md.Undecoded() {
		c.add(k.String(), "unknown setting")
	}
	for _, k := range localOnly {
		if src.md.IsDefined(k) {
			c.add(k, "set on the device itself, not in its settings on the server")
		}
	}
	// Stand-ins for what the device brings, so only the settings are
	// judged.
	f.Server.URL, f.Server.Office, f.Server.Token = "http://server.invalid", "office", "token"
	f.DataDir = "/var/lib/kioskd"
	if Role(f.Role) == RoleLocker && !src.md.IsDefined("locker") {
		// A locker's wiring may come with the device's own file, from
		// the technician who wired it (Layered checks the two together).
		f.Locker.ID = "locker"
		f.Locker.Compartment = []compartmentWiring{{ID: "1", LockPin: "LOCK", DoorPin: "DOOR"}}
	}
	_, err = c.finish(c.convert(&f))
	return err
}

// Credentials are what a paired device was given by the server: the
// office it works for and its token.
type Credentials struct {
	Office string
	Token  string
	// ServerURL is the server found on the network, or the one the
	// device was paired with: used where the local file gives no address
	// or DiscoverURL.
	ServerURL string
}

// Layered reads a paired device's configuration: the server's settings
// for it, then its local file over them (the local file wins key by key:
// the server's address, the data folder, hardware facts such as a
// screen's size or a printer's port). The office and the token come from
// its credentials and may not be set locally.
func Layered(settings []byte, localPath string, local []byte, creds Credentials) (*Config, error) {
	var f file
	set, err := decode(SettingsName, settings, &f)
	if err != nil {
		return nil, err
	}
	loc, err := decode(localPath, local, &f)
	if err != nil {
		return nil, err
	}
	c := &checker{dir: filepath.Dir(localPath), sources: []source{set, loc}}
	for _, src := range c.sources {
		for _, k := range src.md.Undecoded() {
			c.addIn(src, k.String(), "unknown setting")
		}
	}
	for _, k := range []string{"server.office", "server.token", "server.token_file"} {
		if loc.md.IsDefined(strings.Split(k, ".")...) {
			c.addIn(loc, k, "this device is paired: its office and token come from the server (forget the pairing with kioskctl unpair to set them here)")
		}
	}
	f.Server.Office, f.Server.Token, f.Server.TokenFile = creds.Office, creds.Token, ""
	if f.Server.URL == "" || f.Server.URL == DiscoverURL {
		f.Server.URL = creds.ServerURL
	}
	return c.finish(c.convert(&f))
}

// checker collects the problems of a configuration read from one or more
// sources, later ones overriding earlier ones.
type checker struct {
	dir     string
	sources []source
	errs    Errors
}

// add names the problem where the setting was last set (the last source
// when none set it: a missing setting is the local file's to add).
func (c *checker) add(setting, format string, args ...any) {
	src := c.sources[len(c.sources)-1]
	for i := len(c.sources) - 1; i >= 0; i-- {
		if c.sources[i].md.IsDefined(strings.Split(setting, ".")...) {
			src = c.sources[i]
			break
		}
	}
	c.addIn(src, setting, format, args...)
}

func (c *checker) addIn(src source, setting, format string, args ...any) {
	c.errs = append(c.errs, Error{File: src.path, Line: src.lines.Line(setting), Path: setting, Message: fmt.Sprintf(format, args...)})
}

// relative resolves p against the configuration's folder.
func (c *checker) relative(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

var officeID = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

func (c *checker) convert(f *file) *Config {
	cfg := &Config{File: c.sources[len(c.sources)-1].path, Role: Role(f.Role), Name: strings.TrimSpace(f.Name), TechnicianPIN: f.TechnicianPIN}
	switch cfg.Role {
	case RoleTicket, RoleCounter, RoleHall, RoleLocker:
	case "":
		c.add("role", "missing: ticket, counter, hall or locker")
	default:
		c.add("role", "%q is not ticket, counter, hall or locker", f.Role)
	}
	if cfg.Name == "" {
		cfg.Name = string(cfg.Role)
	}
	cfg.DataDir = c.relative(f.DataDir)
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir
	}
	cfg.Languages = f.Languages
	if len(cfg.Languages) == 0 {
		cfg.Languages = append([]string(nil), i18n.Languages...)
	}
	seen := map[string]bool{}
	for _, l := range cfg.Languages {
		switch {
		case !i18n.Supported(l) || i18n.Normalize(l) != l:
			c.add("languages", "%q is not one of pl, en, lt, ru, uk", l)
		case seen[l]:
			c.add("languages", "%q is listed twice", l)
		}
		seen[l] = true
	}
	if p := f.TechnicianPIN; p != "" {
		if len(p) < 4 || len(p) > 12 || strings.Trim(p, "0123456789") != "" {
			c.add("technician_pin", "must be 4 to 12 digits")
		}
	}
	c.server(f, cfg)
	c.screen(f, cfg)
	switch cfg.Role {
	case RoleTicket:
		c.printer(f, cfg)
		c.lease(f, cfg)
	case RoleCounter:
		c.counter(f, cfg)
	case RoleHall:
		c.sound(f, cfg)
	case RoleLocker:
		c.locker(f, cfg)
	}
	c.notForRole(f, cfg.Role)
	c.status(f, cfg)
	return cfg
}

func (c *checker) status(f *file, cfg *Config) {
	if l := f.Status.Listen; l != "" {
		host, port, err := splitHostPort(l)
		if err != nil || port == "" {
			c.add("status.listen", "%q is not host:port (127.0.0.1:7070)", l)
		} else if host != "127.0.0.1" && host != "localhost" && host != "::1" {
			c.add("status.listen", "%q: the status page is for this machine only; listen on 127.0.0.1", l)
		}
		cfg.Status.Listen = l
	}
}

// serverURL checks the queue server's address.
func (c *checker) serverURL(s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		c.add("server.url", "missing: the queue server's address, e.g. http://10.0.0.2:8080")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.add("server.url", "%q is not an http:// or https:// address (or %q, to find the server on the network)", s, DiscoverURL)
	}
}

func splitHostPort(s string) (string, string, error) {
	u, err := url.Parse("//" + s)
	if err != nil {
		return "", "", err
	}
	return u.Hostname(), u.Port(), nil
}

func (c *checker) server(f *file, cfg *Config) {
	s := f.Server
	c.serverURL(s.URL)
	cfg.Server.URL = strings.TrimRight(s.URL, "/")
	if s.Office == "" {
		c.add("server.office", "missing: the office id, e.g. cus-starachowice")
	} else if !officeID.MatchString(s.Office) {
		c.add("server.office", "%q is not an office id (lowercase letters, digits, dashes)", s.Office)
	}
	cfg.Server.Office = s.Office
	switch {
	case s.Token != "" && s.TokenFile != "":
		c.add("server.token_file", "give token or token_file, not both")
	case s.Token != "":
		cfg.Server.Token = strings.TrimSpace(s.Token)
	case s.TokenFile != "":
		path := c.relative(s.TokenFile)
		data, err := readSmallFile(path)
		if err != nil {
			c.add("server.token_file", "cannot read it: %v", err)
			break
		}
		cfg.Server.Token = strings.TrimSpace(string(data))
		if cfg.Server.Token == "" {
			c.add("server.token_file", "%s is empty", path)
		}
	default:
		c.add("server.token", "missing: the device's token (queue-server token --role %s ...), or token_file", orRole(cfg.Role))
	}
	if t := cfg.Server.Token; t != "" && strings.ContainsAny(t, " \t\r\n") {
		c.add("server.token", "a token has no spaces or line breaks")
	}
	cfg.Server.IssueTimeout = c.duration("server.issue_timeout", s.IssueTimeout, 1500*time.Millisecond, 100*time.Millisecond, time.Minute)
}

// readSmallFile reads a regular file of at most 4 KiB (a token), so a
// mistyped path to a device or a pipe cannot hang the start-up.
func readSmallFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > 4096 {
		return nil, fmt.Errorf("%s is %d bytes; a token file holds one token", path, st.Size())
	}
	return os.ReadFile(path)
}

func orRole(r Role) string {
	switch r {
	case RoleTicket, RoleCounter, RoleHall, RoleLocker:
		return string(r)
	}
	return "ROLE"
}

// duration checks an optional duration against its bounds.
func (c *checker) duration(setting string, d *Duration, def, lo, hi time.Duration) time.Duration {
	if d == nil {
		return def
	}
	v := time.Duration(*d)
	if v < lo || v > hi {
		c.add(setting, "%v is outside %v to %v", v, lo, hi)
	}
	return v
}

func (c *checker) screen(f *file, cfg *Config) {
	s := f.Screen
	w, h, mm := 1920, 1080, 0.0
	switch cfg.Role {
	case RoleCounter:
		w, h, mm = 800, 480, 154
	case RoleLocker:
		w, h, mm = 1280, 800, 217 // a 10.1-inch touch panel
	}
	if s.Width != 0 || s.Height != 0 {
		w, h, mm = s.Width, s.Height, 0
	}
	if w < 320 || h < 240 || w > 8192 || h > 8192 {
		c.add("screen.width", "%dx%d: width and height must be from 320x240 to 8192x8192 pixels", w, h)
	}
	switch s.Rotation {
	case 0, 90, 180, 270:
	default:
		c.add("screen.rotation", "%d is not 0, 90, 180 or 270", s.Rotation)
	}
	if s.WidthMM != 0 {
		mm = s.WidthMM
	}
	if mm < 0 || mm > 5000 {
		c.add("screen.width_mm", "%v is not a screen's width in millimetres", mm)
	}
	scale := s.WindowScale
	if scale == 0 {
		scale = 1
	}
	if scale < 0.1 || scale > 2 {
		c.add("screen.window_scale", "%v is outside 0.1 to 2", s.WindowScale)
	}
	cfg.Screen = Screen{
		Width: w, Height: h, Rotation: s.Rotation, WidthMM: mm, Windowed: s.Windowed, WindowScale: scale,
		IdleTimeout: c.duration("screen.idle_timeout", s.IdleTimeout, 40*time.Second, 5*time.Second, 10*time.Minute),
		Message:     strings.TrimSpace(s.Message),
		Blink:       c.duration("screen.blink", s.Blink, 6*time.Second, 50*time.Millisecond, time.Minute),
	}
}

func (c *checker) printer(f *file, cfg *Config) {
	p := f.Printer
	if p.URI == "" {
		c.add("printer.uri", "missing: the ticket printer, e.g. usb:///dev/usb/lp0 or emulator:///var/tmp/tickets")
	} else if problem := uriProblem(p.URI); problem != "" {
		c.add("printer.uri", "%s", problem)
	}
	cfg.Printer.URI = p.URI
	cfg.Printer.Profile = p.Profile
	if cfg.Printer.Profile == "" {
		cfg.Printer.Profile = profiles.Default
	}
	if _, err := profiles.Lookup(cfg.Printer.Profile); err != nil {
		c.add("printer.profile", "%v (kioskctl printer-profiles lists them)", err)
	}
	switch p.Mode {
	case "", "text":
		cfg.Printer.Mode = "text"
	case "raster":
		cfg.Printer.Mode = "raster"
	default:
		c.add("printer.mode", "%q is not text or raster", p.Mode)
	}
	if p.PaperMM != 0 && p.PaperMM != 58 && p.PaperMM != 80 {
		c.add("printer.paper_mm", "%d is not 58 or 80", p.PaperMM)
	}
	cfg.Printer.PaperMM = p.PaperMM
	cfg.Printer.Logo = c.relative(p.Logo)
	if cfg.Printer.Logo != "" {
		if _, err := os.Stat(cfg.Printer.Logo); err != nil {
			c.add("printer.logo", "%v", err)
		}
	}
	cfg.Printer.CheckEvery = c.duration("printer.check_every", p.CheckEvery, 10*time.Second, time.Second, 10*time.Minute)
}

// uriProblem says what is wrong with the form of a printer URI, or "".
// Whether the device can open its scheme, and what the scheme's query
// settings mean, the printer package says when kioskd starts (and kioskd
// --check): the configuration does not link the printer drivers.
func uriProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("printer URI %q: %v", s, err)
	case u.Scheme == "":
		return fmt.Sprintf("printer URI %q has no scheme: use serial://, usb://, tcp://, file:// or emulator://", s)
	case u.Host == "" && u.Path == "":
		return fmt.Sprintf("printer URI %q names no device, file or host", s)
	}
	return ""
}

func (c *checker) lease(f *file, cfg *Config) {
	size, low := 20, 10
	if f.Lease.Size != nil {
		size = *f.Lease.Size
	}
	if f.Lease.Low != nil {
		low = *f.Lease.Low
	} else {
		low = size / 2
	}
	if size < 0 || size > 50 {
		c.add("lease.size", "%d is outside 0 (no offline issuing) to 50", size)
	}
	if low < 0 || low > size {
		c.add("lease.low", "%d must be from 0 to lease.size (%d)", low, size)
	}
	cfg.Lease = Lease{Size: size, Low: low}
}

func (c *checker) counter(f *file, cfg *Config) {
	n := f.Counter.Number
	if n < 1 || n > 999 {
		c.add("counter.number", "missing or outside 1-999: the counter this display is above")
	}
	cfg.Counter.Number = n
	b := f.Buttons
	cfg.Buttons.Pins = map[Button]string{}
	byPin := map[string]Button{}
	for _, btn := range AllButtons {
		v, set := b[string(btn)]
		if !set {
			continue
		}
		pin, ok := v.(string)
		if !ok {
			c.add("buttons."+string(btn), "%v is not a pin name like \"GPIO17\"", v)
			continue
		}
		if pin = strings.TrimSpace(pin); pin == "" {
			continue
		}
		if other, dup := byPin[pin]; dup {
			c.add("buttons."+string(btn), "pin %s is already the %s button", pin, other)
		}
		byPin[pin] = btn
		cfg.Buttons.Pins[btn] = pin
	}
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "pressed" && k != "debounce" && !contains(buttonNames(), k) {
			c.add("buttons."+k, "%s", notAButton(k))
		}
	}
	switch pressed := b["pressed"]; pressed {
	case nil, "", "low":
		cfg.Buttons.ActiveLow = true
	case "high":
	default:
		c.add("buttons.pressed", "%q is not low (button to ground) or high (button to 3.3 V)", fmt.Sprint(pressed))
	}
	var debounce *Duration
	if v, set := b["debounce"]; set {
		text, _ := v.(string)
		var d Duration
		if err := d.UnmarshalText([]byte(text)); err != nil {
			c.add("buttons.debounce", "%q is not a duration like \"30ms\"", fmt.Sprint(v))
		} else {
			debounce = &d
		}
	}
	cfg.Buttons.Debounce = c.duration("buttons.debounce", debounce, 30*time.Millisecond, 0, time.Second)
}

func buttonNames() []string {
	names := make([]string, len(AllButtons))
	for i, b := range AllButtons {
		names[i] = string(b)
	}
	return names
}

// notAButton says why a setting of [buttons] is not a button: a counter
// action whose buttons have other names, one whose parameters are chosen
// on a screen, or no action at all.
func notAButton(key string) string {
	all := strings.Join(buttonNames(), ", ")
	a, err := queue.CounterActionNamed(key)
	if err != nil {
		return fmt.Sprintf("not a button; the buttons are %s, beside the settings pressed and debounce", all)
	}
	var its []string
	for _, b := range queue.CounterButtons() {
		if b.Action == a.Name {
			its = append(its, b.Name)
		}
	}
	if len(its) > 0 {
		return fmt.Sprintf("the %s action has a button each for %s", a.Name, strings.Join(its, ", "))
	}
	return fmt.Sprintf("no button can %s: it needs %s, chosen on a screen at the time; the buttons are %s", a.Name, strings.Join(a.Params, ", "), all)
}

func (c *checker) sound(f *file, cfg *Config) {
	s := f.Sound
	cfg.Sound.Enabled = s.Enabled == nil || *s.Enabled
	cfg.Sound.Voices = c.relative(s.Voices)
	if cfg.Sound.Voices != "" {
		if st, err := os.Stat(cfg.Sound.Voices); err != nil || !st.IsDir() {
			c.add("sound.voices", "%s is not a folder of voice packs", cfg.Sound.Voices)
		}
	}
	if _, err := volume.NewSchedule(s.Volume); err != nil {
		c.add("sound.volume", "%v", err)
	}
	cfg.Sound.Volume = s.Volume
	cfg.Sound.AnnounceWithin = c.duration("sound.announce_within", s.AnnounceWithin, 2*time.Minute, 0, time.Hour)
}

// notForRole names settings the role does not use, so a technician does
// not wonder why a printer on a hall display never prints.
func (c *checker) notForRole(f *file, r Role) {
	used := map[Role][]string{
		RoleTicket:  {"printer", "lease"},
		RoleCounter: {"counter", "buttons"},
		RoleHall:    {"sound"},
		RoleLocker:  {"locker"},
	}
	set := map[string]bool{
		"printer": f.Printer != (file{}).Printer,
		"lease":   f.Lease != (file{}).Lease,
		"counter": f.Counter != (file{}).Counter,
		"buttons": len(f.Buttons) > 0,
		"sound":   f.Sound.Enabled != nil || f.Sound.Voices != "" || len(f.Sound.Volume) > 0 || f.Sound.AnnounceWithin != nil,
		"locker":  f.Locker.ID != "" || len(f.Locker.Compartment) > 0,
	}
	if r == "" {
		return
	}
	for _, table := range []string{"printer", "lease", "counter", "buttons", "sound", "locker"} {
		if set[table] && !contains(used[r], table) {
			c.add(table, "a %s device has no %s; remove the [%s] table", r, table, table)
		}
	}
	if f.TechnicianPIN != "" && r != RoleTicket {
		c.add("technician_pin", "only the ticket kiosk has a service screen")
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// lockerID is the form of a locker's and a compartment's id in the
// office's configuration.
var lockerID = regexp.MustCompile(`^[A-Za-z0-9-]{1,40}$`)

func (c *checker) locker(f *file, cfg *Config) {
	l := f.Locker
	cfg.Locker.ID = strings.TrimSpace(l.ID)
	switch {
	case cfg.Locker.ID == "":
		c.add("locker.id", "missing: the locker's id in the office's configuration ([[locker]] id)")
	case !lockerID.MatchString(cfg.Locker.ID):
		c.add("locker.id", "%q is not a locker id (letters, digits, dashes)", l.ID)
	}
	if len(l.Compartment) == 0 {
		c.add("locker", "no [[locker.compartment]]: each compartment needs its id, lock_pin and door_pin")
	}
	ids := map[string]int{}
	pins := map[string]string{} // pin -> what it already is
	for i, lc := range l.Compartment {
		at := fmt.Sprintf("locker.compartment[%d].", i)
		comp := LockerCompartment{ID: strings.TrimSpace(lc.ID), LockPin: strings.TrimSpace(lc.LockPin), DoorPin: strings.TrimSpace(lc.DoorPin)}
		switch {
		case comp.ID == "":
			c.add(at+"id", "missing: the compartment's id, as painted on its door and in the office's configuration")
		case !lockerID.MatchString(comp.ID):
			c.add(at+"id", "%q is not a compartment id (letters, digits, dashes)", lc.ID)
		default:
			if first, dup := ids[comp.ID]; dup {
				c.add(at+"id", "compartment %s is already wired at compartment #%d", comp.ID, first+1)
			}
			ids[comp.ID] = i
		}
		for _, p := range []struct{ key, pin, what string }{
			{"lock_pin", comp.LockPin, "the lock of compartment " + comp.ID},
			{"door_pin", comp.DoorPin, "the door sensor of compartment " + comp.ID},
		} {
			switch {
			case p.pin == "":
				c.add(at+p.key, "missing: the GPIO pin of %s, by periph.io name like \"GPIO17\"", p.what)
			case pins[p.pin] != "":
				c.add(at+p.key, "pin %s is already %s", p.pin, pins[p.pin])
			default:
				pins[p.pin] = p.what
			}
		}
		switch lc.DoorClosedLevel {
		case "", "low":
			comp.DoorClosedLow = true
		case "high":
		default:
			c.add(at+"door_closed_level", "%q is not low (the sensor pulls the pin to ground while the door is closed) or high", lc.DoorClosedLevel)
		}
		comp.Pulse = c.duration(at+"pulse", lc.Pulse, 500*time.Millisecond, 50*time.Millisecond, 5*time.Second)
		cfg.Locker.Compartments = append(cfg.Locker.Compartments, comp)
	}
}
