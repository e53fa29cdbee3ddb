package web

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/numerek/numerek/protocol"
)

// testDevice is a device pairing with the env's server as kioskd does.
type testDevice struct {
	e     *env
	key   ed25519.PrivateKey
	grant protocol.PairingGrant
	creds protocol.Credentials
}

// pairingDevice asks for a pairing, with an enrolment secret if given.
func (e *env) pairingDevice(enrolment string) *testDevice {
	e.t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	d := &testDevice{e: e, key: key}
	body, _ := json.Marshal(protocol.PairingRequest{PublicKey: protocol.EncodePublicKey(key.Public().(ed25519.PublicKey)),
		Version: "1.4.0", Hardware: protocol.Hardware{Model: "Raspberry Pi 4 Model B", Serial: "10000000cafe", Screen: "1920x1080"}, Enrolment: enrolment})
	resp, err := http.Post(e.url+protocol.PairingPath, "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&d.grant) != nil {
		e.t.Fatalf("pairing request: %d", resp.StatusCode)
	}
	return d
}

func (d *testDevice) fingerprint() string {
	return protocol.Fingerprint(d.key.Public().(ed25519.PublicKey))
}

// poll polls once, signed; it returns the RFC 8628 error, or "" once
// the credentials are kept.
func (d *testDevice) poll() string {
	d.e.t.Helper()
	sig := ed25519.Sign(d.key, protocol.PairingSignedText(d.grant.DeviceCode))
	body, _ := json.Marshal(protocol.PairingPoll{GrantType: protocol.DeviceCodeGrantType, DeviceCode: d.grant.DeviceCode,
		Signature: base64.StdEncoding.EncodeToString(sig)})
	resp, err := http.Post(d.e.url+protocol.PairingTokenPath, "application/json", bytes.NewReader(body))
	if err != nil {
		d.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&d.creds); err != nil {
			d.e.t.Fatal(err)
		}
		return ""
	}
	var pe protocol.PairingError
	_ = json.NewDecoder(resp.Body).Decode(&pe)
	return pe.Error
}

// get calls the API with the device's token and proof.
func (d *testDevice) get(path string) (int, string) {
	d.e.t.Helper()
	req, _ := http.NewRequest("GET", d.e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+d.creds.Token)
	req.Header.Set(protocol.ProofHeader, protocol.SignProof(d.key, "GET", path, d.e.clock.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// An admin pairs a counter display by its code without JavaScript, edits
// its settings (refused with the line at fault and the text kept, then
// saved as the next revision), and revokes it; a clerk may not see the
// pages, and wrong codes are limited.
func TestDevicePagesPairEditRevoke(t *testing.T) {
	e := newEnv(t)
	dev := e.pairingDevice("")
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")

	if body := admin.get("/staff/devices/pair?lang=en&code=ZZZZ-ZZZZ"); admin.status != 404 || !strings.Contains(body, "No device is waiting with this code") {
		t.Errorf("a wrong code: %d", admin.status)
	}
	body := admin.get("/staff/devices/pair?lang=en&code=" + url.QueryEscape(strings.ToLower(dev.grant.UserCode)))
	if admin.status != 200 || !strings.Contains(body, dev.fingerprint()) || !strings.Contains(body, "10000000cafe") || !strings.Contains(body, "1.4.0") {
		t.Fatalf("the approve page: %d\n%s", admin.status, body)
	}
	// A counter that does not exist is refused and the form kept.
	status, body := admin.post("/staff/devices/pair", url.Values{"code": {dev.grant.UserCode}, "decision": {"approve"},
		"office": {e.office.ID}, "role": {"counter"}, "counter": {"99"}, "name": {"counter-x"}})
	if status != 400 || !strings.Contains(body, `value="counter-x"`) {
		t.Errorf("counter 99: %d", status)
	}
	status, body = admin.post("/staff/devices/pair", url.Values{"code": {dev.grant.UserCode}, "decision": {"approve"},
		"office": {e.office.ID}, "role": {"counter"}, "counter": {"2"}, "name": {"counter-2"}})
	if status != 200 || !strings.Contains(body, "Device counter-2 is paired") {
		t.Fatalf("approving: %d\n%s", status, body)
	}
	if got := dev.poll(); got != "" {
		t.Fatalf("poll after approval: %s", got)
	}
	id := dev.creds.DeviceID
	if dev.creds.Counter != 2 || !strings.Contains(dev.creds.Settings.TOML, "number = 2") || !strings.Contains(dev.creds.Settings.TOML, "width = 1920") {
		t.Errorf("credentials %+v", dev.creds)
	}
	if list := admin.get("/staff/devices?lang=en"); !strings.Contains(list, `href="/staff/devices/`+id+`"`) || !strings.Contains(list, "counter-2") {
		t.Errorf("the list does not show the device:\n%s", list)
	}

	page := admin.get("/staff/devices/" + id + "?lang=en")
	if admin.status != 200 || !strings.Contains(page, html.EscapeString(dev.creds.Settings.TOML)) {
		t.Fatalf("the device's page: %d\n%s", admin.status, page)
	}
	// The device's three pages lead to one another.
	for _, link := range []string{`href="/staff/fleet/` + id + `"`, `href="/staff/devices/` + id + `/remote"`} {
		if !strings.Contains(page, link) {
			t.Errorf("the device's page has no link %s", link)
		}
	}
	if remote := admin.get("/staff/devices/" + id + "/remote?lang=en"); !strings.Contains(remote, `href="/staff/devices/`+id+`"`) || !strings.Contains(remote, `href="/staff/fleet/`+id+`"`) {
		t.Errorf("the remote actions page does not lead back to the device's page and its health")
	}
	if health := admin.get("/staff/fleet/" + id + "?lang=en"); !strings.Contains(health, `href="/staff/devices/`+id+`/remote"`) {
		t.Errorf("the health page does not lead to the remote actions")
	}
	admin.get("/staff/devices/" + id + "?lang=en") // the form's CSRF field
	bad := "role = \"counter\"\nname = \"counter-2\"\n\n[counter]\nnumber = 2\ncolour = \"red\"\n"
	status, body = admin.post("/staff/devices/"+id+"/settings", url.Values{"settings": {strings.ReplaceAll(bad, "\n", "\r\n")}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "settings:6: counter.colour: unknown setting") ||
		!strings.Contains(body, html.EscapeString(bad)) {
		t.Errorf("refused settings: %d\n%s", status, body)
	}
	if st, got := dev.get(protocol.DeviceConfigPath); st != 200 || !strings.Contains(got, `"revision":1`) {
		t.Errorf("after refused settings the device gets %d %s, want revision 1", st, got)
	}
	good := "role = \"counter\"\nname = \"counter-2\"\n\n[counter]\nnumber = 2\n"
	status, body = admin.post("/staff/devices/"+id+"/settings", url.Values{"settings": {good}})
	if status != 200 || !strings.Contains(body, "revision 2") {
		t.Errorf("saving settings: %d\n%s", status, body)
	}
	var settings protocol.DeviceSettings
	if st, got := dev.get(protocol.DeviceConfigPath); st != 200 || json.Unmarshal([]byte(got), &settings) != nil || settings.Revision != 2 || settings.TOML != good {
		t.Errorf("the device's settings: %d %s", st, got)
	}

	clerk := e.browser()
	clerk.login("anna", "correct horse battery")
	if clerk.get("/staff/devices/" + id); clerk.status != http.StatusForbidden {
		t.Errorf("a clerk on a device's page: %d, want 403", clerk.status)
	}

	admin.get("/staff/devices/" + id + "?lang=en")
	status, body = admin.post("/staff/devices/"+id+"/revoke", url.Values{})
	if status != 200 || !strings.Contains(body, "Device counter-2 was revoked") {
		t.Errorf("revoking: %d\n%s", status, body)
	}
	if st, _ := dev.get("/api/v1/offices/" + e.office.ID + "/config"); st != 401 {
		t.Errorf("the revoked device's call: %d, want 401", st)
	}

	// Ten wrong codes, then the admin must wait, even for a right one.
	other := e.pairingDevice("")
	for range 9 {
		admin.get("/staff/devices/pair?code=ZZZZ-ZZZ2")
	}
	if admin.get("/staff/devices/pair?lang=en&code=" + url.QueryEscape(other.grant.UserCode)); admin.status != http.StatusTooManyRequests {
		t.Errorf("after ten wrong codes: %d, want 429", admin.status)
	}
}

// An admin makes an enrolment batch: its secret is shown once, a device
// that gives it is paired at once and listed, the batch counts the use,
// and once ended it pairs no more.
func TestEnrolmentBatchPage(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	admin.get("/staff/devices?lang=en")
	status, body := admin.post("/staff/devices/batches", url.Values{"office": {e.office.ID}, "role": {"hall"}, "prefix": {"hall-"}, "uses": {"2"}, "days": {"7"}})
	secret := regexp.MustCompile(`id="enrolment-secret">(nmke_[a-z2-7]+)<`).FindStringSubmatch(body)
	if status != http.StatusCreated || secret == nil {
		t.Fatalf("creating a batch: %d\n%s", status, body)
	}
	if again := admin.get("/staff/devices?lang=en"); strings.Contains(again, secret[1]) {
		t.Error("the secret is shown again")
	}
	if status, _ := admin.post("/staff/devices/batches", url.Values{"office": {e.office.ID}, "role": {"counter"}, "uses": {"2"}, "days": {"7"}}); status != 200 ||
		!strings.Contains(admin.last, "A batch pairs ticket kiosks or hall displays") {
		t.Errorf("a batch of counter displays: %d", status)
	}

	dev := e.pairingDevice(secret[1])
	if got := dev.poll(); got != "" || dev.creds.Role != "hall" || !strings.HasPrefix(dev.creds.Name, "hall-") {
		t.Fatalf("an enrolled device: %q %+v", got, dev.creds)
	}
	list := admin.get("/staff/devices?lang=en")
	if !strings.Contains(list, dev.creds.Name) || !regexp.MustCompile(`<td class="free-text">hall-</td><td>1</td>`).MatchString(list) {
		t.Errorf("the list after one enrolment:\n%s", list)
	}
	id := regexp.MustCompile(`name="id" value="([0-9a-f]+)"`).FindStringSubmatch(list)
	if id == nil {
		t.Fatal("no batch to end")
	}
	admin.post("/staff/devices/batches/end", url.Values{"id": {id[1]}})
	if got := e.pairingDevice(secret[1]).poll(); got != "authorization_pending" {
		t.Errorf("with an ended batch the device's poll gets %q, want authorization_pending", got)
	}
}
