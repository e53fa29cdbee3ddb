package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/numerek/numerek/server/notice"
)

// isDeviceAlert reports whether k tells an office's admins of a device.
func isDeviceAlert(k notice.Kind) bool {
	return k == notice.DeviceAlert || k == notice.DeviceAlertCleared
}

// alertVars are the placeholders of a device alert's texts, in the
// office's time zone and the notice's language.
func (c *Composer) alertVars(n notice.Notice) (kv []any, since, cleared string) {
	d := n.Device
	if d == nil {
		d = &notice.DeviceFault{}
	}
	loc := c.office(n).Location
	if loc == nil {
		loc = time.UTC
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	clock := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("15:04")
	}
	since, cleared = when(d.Since), clock(d.Cleared)
	return []any{
		"office", c.office(n).Name, "device", d.Device, "fault", c.t(n, "fleet.fault."+d.Fault),
		"since", since, "cleared", cleared, "note", c.t(n, "fleet.cleared."+d.Fault),
		"detail", d.Detail,
	}, since, cleared
}

// devicePage is the device's page on the staff's side.
func (c *Composer) devicePage(n notice.Notice) string {
	if c.PublicURL == "" || n.Device == nil {
		return ""
	}
	return strings.TrimRight(c.PublicURL, "/") + "/staff/fleet/" + url.PathEscape(n.Device.DeviceID)
}

// AlertText is a device alert (or a locker's uncollected document) in
// one line: the webhook's text.
func (c *Composer) AlertText(n notice.Notice) string {
	if n.Kind == notice.LockerExpired {
		kv := c.vars(n, false)
		return c.Catalog.T(n.Lang, "msg.subject."+string(n.Kind), kv...) + ". " + c.Catalog.T(n.Lang, "msg.lead."+string(n.Kind), kv...)
	}
	kv, _, _ := c.alertVars(n)
	return c.Catalog.T(n.Lang, "msg.subject."+string(n.Kind), kv...) + ". " + c.Catalog.T(n.Lang, "msg.lead."+string(n.Kind), kv...)
}

// alertMail is a device alert as an e-mail to the office's admins.
func (c *Composer) alertMail(n notice.Notice) mailView {
	kv, since, cleared := c.alertVars(n)
	d := n.Device
	if d == nil {
		d = &notice.DeviceFault{}
	}
	t := func(id string) string { return c.Catalog.T(n.Lang, id, kv...) }
	v := mailView{
		Lang: n.Lang, Subject: t("msg.subject." + string(n.Kind)), Lead: t("msg.lead." + string(n.Kind)),
		Greeting: c.t(n, "msg.greeting_anon"), Footer: c.t(n, "msg.footer", kv...),
	}
	v.Rows = append(v.Rows, mailRow{Label: t("msg.device.device"), Value: d.Device})
	v.Rows = append(v.Rows, mailRow{Label: t("msg.device.fault"), Value: t("fleet.fault." + d.Fault)})
	if d.Detail != "" {
		v.Rows = append(v.Rows, mailRow{Label: t("msg.device.detail"), Value: d.Detail})
	}
	v.Rows = append(v.Rows, mailRow{Label: t("msg.device.since"), Value: since})
	if !d.Cleared.IsZero() {
		v.Rows = append(v.Rows, mailRow{Label: t("msg.device.cleared"), Value: cleared})
	}
	if page := c.devicePage(n); page != "" {
		v.Actions = append(v.Actions, mailLink{t("msg.device.page"), page})
	}
	return v
}

// AlertHook posts device alerts to a URL (the contact) as JSON
// (AlertMessage). A 4xx answer other than 408 and 429 is permanent;
// anything else but 2xx is retried.
type AlertHook struct {
	compose *Composer
	client  *http.Client
}

// NewAlertHook returns the deliverer of device alerts to webhooks.
func NewAlertHook(c *Composer, client *http.Client) *AlertHook {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &AlertHook{compose: c, client: client}
}

// AlertMessage is the body of a device alert's POST: the fault's facts,
// and a line of text in the office's language for a chat. It holds no
// personal data.
type AlertMessage struct {
	// Event is "device-alert" (raised), "device-alert-cleared", or
	// "locker-expired" (a document not collected by its deadline).
	Event    string    `json:"event"`
	Office   string    `json:"office"`
	DeviceID string    `json:"device_id,omitempty"`
	Device   string    `json:"device,omitempty"`
	Role     string    `json:"role,omitempty"`
	Fault    string    `json:"fault,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	Cleared  time.Time `json:"cleared,omitzero"`
	Note     string    `json:"note,omitempty"`
	Text     string    `json:"text"`
	Lang     string    `json:"lang"`
	// Page is the device's page (the lockers page) for the staff, when
	// the server knows its public address.
	Page string `json:"page,omitempty"`
	// Locker, Compartment, Deposit, Document and Deadline say which
	// document was not collected (locker-expired).
	Locker      string    `json:"locker,omitempty"`
	Compartment string    `json:"compartment,omitempty"`
	Deposit     string    `json:"deposit,omitempty"`
	Document    string    `json:"document,omitempty"`
	Deadline    time.Time `json:"deadline,omitzero"`
}

// Deliver posts n.
func (h *AlertHook) Deliver(ctx context.Context, n notice.Notice) error {
	var m AlertMessage
	switch {
	case isDeviceAlert(n.Kind) && n.Device != nil:
		d := n.Device
		m = AlertMessage{
			DeviceID: d.DeviceID, Device: d.Device, Role: d.Role,
			Fault: d.Fault, Detail: d.Detail, Since: d.Since, Cleared: d.Cleared, Note: d.Note,
			Page: h.compose.devicePage(n),
		}
	case n.Kind == notice.LockerExpired && n.Locker != nil:
		d := n.Locker
		m = AlertMessage{Locker: d.Locker, Compartment: d.Compartment, Deposit: d.Deposit, Document: d.Document,
			Deadline: d.Deadline, Page: h.compose.lockersPage(n)}
	default:
		return Permanent(fmt.Errorf("a %s notice cannot go to a webhook", n.Kind))
	}
	m.Event, m.Office, m.Text, m.Lang = string(n.Kind), n.Office, h.compose.AlertText(n), n.Lang
	body, err := json.Marshal(m)
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.Contact, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("alert webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		// The error names the URL, which the outbox scrubs as a contact.
		return fmt.Errorf("alert webhook: %w", err)
	}
	return webhookAnswer("alert webhook", resp)
}

// webhookAnswer reads a webhook's answer and says what it means for the
// outbox: nil for 2xx; a permanent error for a refusal (4xx other than
// 408 and 429), which a retry would only meet again; otherwise an error
// worth retrying.
func webhookAnswer(what string, resp *http.Response) error {
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return Permanent(fmt.Errorf("%s: HTTP %d", what, resp.StatusCode))
	}
	return fmt.Errorf("%s: HTTP %d", what, resp.StatusCode)
}
