package officeconfig

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// DefaultOfflineAfter is [devices] offline_after when unset: how long a
// device is silent before its office's admins are told.
const DefaultOfflineAfter = 5 * time.Minute

// DeviceAlerts is where the alerts about an office's devices go
// ([devices], and [office.devices] over it key by key).
type DeviceAlerts struct {
	// To are the admins' e-mail addresses (sent through [messages.email]).
	To []string
	// Webhook is a URL each alert is POSTed to as JSON.
	Webhook string
	// OfflineAfter is how long a device is silent before it is told.
	OfflineAfter time.Duration
}

// Devices is [devices] and each office's [office.devices].
type Devices struct {
	Default DeviceAlerts
	// Offices are the offices' own settings, by office id, where they
	// have any.
	Offices map[string]DeviceAlerts
}

// For is where the alerts of an office's devices go.
func (d Devices) For(office string) DeviceAlerts {
	if a, ok := d.Offices[office]; ok {
		return a
	}
	return d.Default
}

// Contacts are the addresses an office's alerts go to: the e-mail
// addresses, then the webhook.
func (a DeviceAlerts) Contacts() []string {
	out := append([]string(nil), a.To...)
	if a.Webhook != "" {
		out = append(out, a.Webhook)
	}
	return out
}

// Any reports whether any office's alerts go anywhere.
func (d Devices) Any() bool {
	if len(d.Default.Contacts()) > 0 {
		return true
	}
	for _, a := range d.Offices {
		if len(a.Contacts()) > 0 {
			return true
		}
	}
	return false
}

// devicesFile is [devices] and [office.devices]; a key left out of an
// office's takes [devices]'s.
type devicesFile struct {
	AlertTo      *[]string `toml:"alert_to"`
	AlertWebhook *string   `toml:"alert_webhook"`
	OfflineAfter string    `toml:"offline_after"`
}

func (df devicesFile) set() bool {
	return df.AlertTo != nil || df.AlertWebhook != nil || df.OfflineAfter != ""
}

// over reads df over base, saying what is wrong at path.
func (df devicesFile) over(base DeviceAlerts, path string, add func(path, format string, args ...any)) DeviceAlerts {
	a := base
	if df.AlertTo != nil {
		a.To = nil
		for i, to := range *df.AlertTo {
			to = strings.TrimSpace(to)
			if m, err := mail.ParseAddress(to); err != nil || m.Address != to {
				add(fmt.Sprintf("%s.alert_to[%d]", path, i), "%q is not an e-mail address like \"it@example.pl\"", to)
				continue
			}
			a.To = append(a.To, to)
		}
	}
	if df.AlertWebhook != nil {
		a.Webhook = strings.TrimSpace(*df.AlertWebhook)
		if u, err := url.Parse(a.Webhook); a.Webhook != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			add(path+".alert_webhook", "%q is not an http(s) address", a.Webhook)
		}
	}
	if df.OfflineAfter != "" {
		d, err := time.ParseDuration(df.OfflineAfter)
		switch {
		case err != nil:
			add(path+".offline_after", "%q is not a duration like \"5m\"", df.OfflineAfter)
		case d < time.Minute:
			add(path+".offline_after", "%s: at least 1m (a device reports every 30 s and counts as offline after 75 s)", df.OfflineAfter)
		default:
			a.OfflineAfter = d
		}
	}
	return a
}

// parseDevices reads [devices] and the offices' [office.devices], adding
// what is wrong to errs.
func parseDevices(name string, f file, idx lineIndex, errs Errors) (Devices, Errors) {
	add := func(path, format string, args ...any) {
		errs = append(errs, Error{File: name, Line: idx.line(path), Path: path, Message: fmt.Sprintf(format, args...)})
	}
	d := Devices{Default: f.Devices.over(DeviceAlerts{OfflineAfter: DefaultOfflineAfter}, "devices", add), Offices: map[string]DeviceAlerts{}}
	for i, of := range f.Office {
		if of.Devices.set() {
			d.Offices[of.ID] = of.Devices.over(d.Default, fmt.Sprintf("office[%d].devices", i), add)
		}
	}
	if len(d.Default.To) > 0 && f.Messages.Email == nil {
		add("devices.alert_to", "e-mail alerts need [messages.email] (the SMTP server they are sent through)")
	}
	return d, errs
}
