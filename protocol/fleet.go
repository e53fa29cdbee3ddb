package protocol

import (
	"strconv"
	"time"
)

// A device pairs as RFC 8628's device authorization grant says, with JSON
// bodies instead of forms (the rest of the API is JSON): it asks for a
// pairing with its public key (PairingPath), shows the user code, and polls
// PairingTokenPath until an admin approves the code on /staff/devices.
// Paths of the pairing and of a paired device's own resources.
const (
	// PairingPath: POST PairingRequest → 200 PairingGrant. No token.
	PairingPath = "/api/v1/pairing"
	// PairingTokenPath: POST PairingPoll → 200 Credentials, or 400
	// PairingError (authorization_pending, slow_down, expired_token,
	// access_denied, invalid_grant). No token; the poll is signed with
	// the device's key.
	PairingTokenPath = "/api/v1/pairing/token"
	// DeviceConfigPath: GET → 200 DeviceSettings, the device's own
	// configuration as the server keeps it. A device token.
	DeviceConfigPath = "/api/v1/devices/self/config"
	// DeviceHealthPath: POST HealthReport → 200 HealthAck. A device token.
	DeviceHealthPath = "/api/v1/devices/self/health"
	// DeviceActionsPath + "/{id}": POST ActionResult, the outcome of a
	// DeviceAction; a screenshot's PNG is PUT to DeviceActionsPath +
	// "/{id}/screenshot" (Content-Type image/png). A device token.
	DeviceActionsPath = "/api/v1/devices/self/actions"
)

// DeviceCodeGrantType is RFC 8628's grant_type of the poll.
const DeviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// The errors of a poll (RFC 8628 section 3.5), in PairingError.Error.
const (
	PairingPending  = "authorization_pending"
	PairingSlowDown = "slow_down"
	PairingExpired  = "expired_token"
	PairingDenied   = "access_denied"
	PairingInvalid  = "invalid_grant"
)

// PairingRequest starts a pairing.
type PairingRequest struct {
	// PublicKey is the device's Ed25519 public key, standard base64 of
	// its 32 bytes. The device makes the key pair on its data partition
	// and keeps the private key there.
	PublicKey string   `json:"public_key"`
	Hardware  Hardware `json:"hardware"`
	// Version is kioskd's version.
	Version string `json:"version"`
	// Enrolment is a batch's one-time enrolment secret (put on the card
	// by the image): a device that gives a valid one is approved without
	// an admin typing its code, with the batch's office and role.
	Enrolment string `json:"enrolment,omitempty"`
}

// Hardware is what a device says it is, shown to the admin who approves
// it (nothing here is trusted: the key is the identity).
type Hardware struct {
	Model    string `json:"model,omitempty"`  // "Raspberry Pi 4 Model B Rev 1.5"
	Serial   string `json:"serial,omitempty"` // the board's serial number
	Hostname string `json:"hostname,omitempty"`
	MAC      string `json:"mac,omitempty"`
	// Screen is the panel's size in pixels, "1920x1080", when known.
	Screen string `json:"screen,omitempty"`
	// Printer is true when a ticket printer answered.
	Printer bool `json:"printer,omitempty"`
}

// PairingGrant is RFC 8628's device authorization response.
type PairingGrant struct {
	DeviceCode string `json:"device_code"`
	// UserCode is 8 characters of the booking-code alphabet
	// (queue.BookingCodeAlphabet), shown as "XXXX-XXXX".
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"` // seconds
	Interval                int    `json:"interval"`   // seconds between polls
}

// PairingPoll asks whether the pairing is approved.
type PairingPoll struct {
	GrantType  string `json:"grant_type"` // DeviceCodeGrantType
	DeviceCode string `json:"device_code"`
	// Signature is standard base64 of the Ed25519 signature of
	// PairingSignedText(DeviceCode) by the device's key: only the holder of
	// the key can collect the credentials.
	Signature string `json:"signature"`
}

// PairingSignedText is what a poll's signature signs.
func PairingSignedText(deviceCode string) []byte {
	return []byte("numerek-pairing\n" + deviceCode)
}

// PairingError is RFC 8628's error response.
type PairingError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	// Interval is the new polling interval after slow_down (seconds).
	Interval int `json:"interval,omitempty"`
}

// Credentials are what an approved device receives, once. They are
// stored only on the device; the token is bound to the device's key
// (every request carries ProofHeader).
type Credentials struct {
	DeviceID string `json:"device_id"`
	Token    string `json:"token"`
	Office   string `json:"office"`
	Role     string `json:"role"`
	Counter  int    `json:"counter,omitempty"`
	Name     string `json:"name"`
	// Settings is the device's configuration at approval.
	Settings DeviceSettings `json:"settings"`
}

// ProofHeader carries a paired device's proof of its key on every
// request: "<unix seconds>.<base64 signature of ProofSignedText>". The
// server refuses a paired device's token without a fresh proof (within
// ProofWindow of its clock), so a token copied off the card or out of a
// log is useless without the key.
const ProofHeader = "Numerek-Proof"

// ProofWindow is how far a proof's time may be from the server's.
const ProofWindow = 5 * time.Minute

// ProofSignedText is what a request's proof signs.
func ProofSignedText(method, path string, unix int64) []byte {
	return []byte("numerek-proof\n" + method + "\n" + path + "\n" + strconv.FormatInt(unix, 10))
}

// DeviceSettings is a device's configuration as the server keeps it: the
// same TOML a device's file holds (device/config reads both with the same
// rules), without the server's address, the token and the data folder,
// which stay on the device. Revision grows with each edit, so a device
// knows whether what it runs is current.
type DeviceSettings struct {
	Revision int    `json:"revision"`
	TOML     string `json:"toml"`
}

// ControlHeader on a device's event stream request asks the server to
// send the device's control events (below) on it as well. A device that
// does not send it (an older kioskd) gets the office's events only.
const ControlHeader = "Numerek-Control"

// Control events on a device's event stream. They carry no id, so a
// client's Last-Event-ID stays the office's seq.
const (
	// ActionEvent carries a DeviceAction.
	ActionEvent = "device-action"
	// SettingsEvent carries DeviceSettings: the device's configuration
	// was edited.
	SettingsEvent = "device-settings"
	// RevokedEvent (data: {}) is the last event of a revoked device's
	// stream; the device forgets its credentials and pairs again.
	RevokedEvent = "revoked"
)

// The remote actions an admin can ask of a device.
const (
	ActionRestart    = "restart"    // restart kioskd
	ActionReboot     = "reboot"     // reboot the machine
	ActionIdentify   = "identify"   // show the device's name and a QR to its page
	ActionScreenshot = "screenshot" // PUT the current frame as PNG
	ActionTestPrint  = "test-print" // print a test ticket
	ActionTestSound  = "test-sound" // play a test chime and words
)

// DeviceAction is one remote action.
type DeviceAction struct {
	ID   string    `json:"id"`
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Update is the bundle to install, for Kind ActionUpdate only.
	Update *UpdateOrder `json:"update,omitempty"`
}

// ActionResult is how an action went on the device.
type ActionResult struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// HealthReport is what a device reports every HealthEvery.
type HealthReport struct {
	Version  string    `json:"version"`
	Role     string    `json:"role"`
	Name     string    `json:"name"`
	Started  time.Time `json:"started"`
	UptimeS  int64     `json:"uptime_s"`
	Address  string    `json:"address,omitempty"`
	Hardware Hardware  `json:"hardware"`
	// TemperatureC is the SoC's temperature, nil where unknown.
	TemperatureC *float64 `json:"temperature_c,omitempty"`
	// Throttled names the Raspberry Pi's current throttling flags
	// ("under-voltage", "throttled", "frequency-capped",
	// "soft-temperature-limit"); empty: none or unknown.
	Throttled     []string     `json:"throttled,omitempty"`
	DiskFreeBytes uint64       `json:"disk_free_bytes"`
	DiskSizeBytes uint64       `json:"disk_size_bytes"`
	Stream        StreamHealth `json:"stream"`
	// ClockOffsetMS is the server's clock minus the device's, as the
	// device measures it.
	ClockOffsetMS int64        `json:"clock_offset_ms"`
	Screen        ScreenHealth `json:"screen"`
	// Printer is nil on a device without a printer.
	Printer *PrinterHealth `json:"printer,omitempty"`
	// LastCall is the last call the hall said, nil if none.
	LastCall *LastCall `json:"last_call,omitempty"`
	// System is the device's system image and its updates; nil on a
	// machine not made from the Numerek image.
	System *SystemHealth `json:"system,omitempty"`
	// Locker is a locker's doors; nil on a device of another role.
	Locker *LockerHealth `json:"locker,omitempty"`
}

// StreamHealth is the device's event stream as the device sees it.
type StreamHealth struct {
	Connected bool   `json:"connected"`
	Seq       uint64 `json:"seq"`
	// LagMS is how long after the server's commit the newest event was
	// folded in on the device (server clock; the device corrects by its
	// clock offset).
	LagMS int64 `json:"lag_ms"`
}

// ScreenHealth says whether the screen's loop is alive.
type ScreenHealth struct {
	Drawing   bool      `json:"drawing"`
	LastFrame time.Time `json:"last_frame"`
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
}

// PrinterHealth is the printer's full status (DLE EOT 1, 2 and 4) and the
// last ticket printed.
type PrinterHealth struct {
	URI          string    `json:"uri"`
	Online       bool      `json:"online"`
	CoverOpen    bool      `json:"cover_open"`
	PaperNearEnd bool      `json:"paper_near_end"`
	PaperOut     bool      `json:"paper_out"`
	CutterError  bool      `json:"cutter_error"`
	Error        string    `json:"error,omitempty"` // unreachable, unrecoverable error...
	LastTicket   string    `json:"last_ticket,omitempty"`
	LastPrinted  time.Time `json:"last_printed,omitzero"`
}

// LastCall is a call the hall said.
type LastCall struct {
	Ticket  string    `json:"ticket"`
	Counter int       `json:"counter"`
	At      time.Time `json:"at"`
}

// HealthAck answers a report.
type HealthAck struct {
	ServerTime time.Time `json:"server_time"`
	// EverySeconds is when the server wants the next report.
	EverySeconds int `json:"every_s"`
}

// HealthEvery is how often a device reports by default.
const HealthEvery = 30 * time.Second
