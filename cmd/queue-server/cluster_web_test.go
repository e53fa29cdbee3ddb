package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/store/kv"
	"github.com/numerek/numerek/store/pgstore"
)

// The web side on three nodes sharing PostgreSQL, with no sticky
// sessions: a resident books on one node, confirms the e-mailed code on
// another and checks in at a kiosk talking to the third; a clerk logs in
// on one node and is logged in on the others; each message goes out
// once, though every node's outbox workers deliver.
func TestClusterSharesTheWebSide(t *testing.T) {
	if testing.Short() {
		t.Skip("queue-server processes on PostgreSQL")
	}
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	setting := fmt.Sprintf("[messages]\n[messages.email]\nhost = \"127.0.0.1\"\nport = %d\ntls = \"none\"\nfrom = \"CUS <kolejka@example.pl>\"\n\n", sink.Port())
	cfg := exampleOfficeWith(t, setting)
	c := newTestCluster(t, 0)
	c.args = []string{"--config", cfg}
	for _, name := range []string{"a", "b", "c"} {
		c.addNode(name, "")
	}
	a, b, k := c.nodes[0], c.nodes[1], c.nodes[2]
	jar, _ := cookiejar.New(nil)
	// Cookies do not tell ports apart: one browser, whichever node a
	// balancer sends each request to.
	browser := &http.Client{Jar: jar, Timeout: 15 * time.Second}

	// Booked on a, 08:30 today (the cluster's clock is 08:00 in Poland, the check-in opens 30 minutes before).
	const slot = "2026-11-23T08:30:00+01:00"
	page := getPage(t, browser, a.base()+"/book/"+officeID+"?service=family&day=2026-11-23&slot="+url.QueryEscape(slot)+"&lang=en")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no booking form:\n%s", page)
	}
	form := url.Values{"csrf": {csrf[1]}, "service": {"family"}, "day": {"2026-11-23"}, "slot": {slot},
		"name": {"Anna Nowak"}, "contact": {"anna.nowak@example.pl"}, "terms": {"yes"}}
	resp := postForm(t, browser, a.base(), "/book/"+officeID, form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/booking/") {
		t.Fatalf("booking on node a: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	bookingPath := resp.Request.URL.Path

	// The code e-mailed is confirmed on b: b finds the booking a made.
	confirmLink := regexp.MustCompile(`/booking/[^\s"<>]+/confirm/[0-9]{6}`)
	var confirm string
	waitfor.Until(t, "the e-mail with the confirmation code", 20*time.Second, func() bool {
		for _, m := range sink.Messages() {
			if l := confirmLink.FindString(strings.ReplaceAll(string(m.Data), "=\r\n", "")); l != "" {
				confirm = l
				return true
			}
		}
		return false
	})
	page = getPage(t, browser, b.base()+confirm)
	code := regexp.MustCompile(`id="booking-code">([A-Z0-9-]+)<`).FindStringSubmatch(page)
	if code == nil {
		t.Fatalf("node b's page after confirming shows no booking code:\n%s", page)
	}
	if page := getPage(t, browser, k.base()+bookingPath+"?lang=en"); !strings.Contains(page, code[1]) {
		t.Errorf("node c does not show the booking made on a:\n%s", page)
	}

	// The kiosk on c checks the visit in by its code: a ticket.
	req, _ := http.NewRequest(http.MethodPost, k.base()+"/api/v1/offices/"+officeID+"/checkins", strings.NewReader(fmt.Sprintf(`{"code":%q,"lang":"en","request_id":"ci-1"}`, code[1])))
	req.Header.Set("Authorization", "Bearer "+c.tokens["kiosk"])
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(answer), `"number"`) {
		t.Fatalf("checking in on node c: %d %s", resp.StatusCode, answer)
	}

	// A clerk logs in on a; b and c know the session.
	cmd := exec.Command(c.bin, "clerk", "--store", c.store, "--name", "ewa", "--office", officeID)
	cmd.Stdin = strings.NewReader("a password for ewa\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clerk: %v\n%s", err, out)
	}
	page = getPage(t, browser, a.base()+"/staff/login")
	csrf = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no login form:\n%s", page)
	}
	resp = postForm(t, browser, a.base(), "/staff/login", url.Values{"csrf": {csrf[1]}, "name": {"ewa"}, "password": {"a password for ewa"}})
	if resp.StatusCode != http.StatusOK || strings.HasSuffix(resp.Request.URL.Path, "/login") {
		t.Fatalf("logging in on node a: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	for _, n := range []*clusterNode{b, k} {
		r, err := browser.Get(n.base() + "/staff")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || strings.Contains(r.Request.URL.Path, "/login") || !strings.Contains(string(body), "ewa") {
			t.Errorf("node %s after logging in on a: %d at %s", n.name, r.StatusCode, r.Request.URL)
		}
	}

	// Each message once: the confirmation code and the booking's
	// confirmation, though three nodes' workers deliver.
	var subjects []string
	waitfor.Until(t, "the booking's confirmation e-mail", 20*time.Second, func() bool {
		subjects = subjects[:0]
		for _, m := range sink.Messages() {
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				continue
			}
			s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			subjects = append(subjects, s)
		}
		return len(subjects) >= 2
	})
	// Once the shared outbox has marked every message sent, no worker
	// can claim one again: what the SMTP server has is all there is.
	db, err := pgstore.Open(context.Background(), c.store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitfor.Until(t, "every message marked sent in the shared outbox", 20*time.Second, func() bool {
		total, sent := 0, 0
		err := db.KV(outboxSpace).View(func(tx kv.Tx) error {
			return tx.Bucket([]byte("messages")).ForEach(func(_, v []byte) error {
				var r struct{ State string }
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				total++
				if r.State == "sent" {
					sent++
				}
				return nil
			})
		})
		return err == nil && sent >= 2 && sent == total
	})
	if n := len(sink.Messages()); n != 2 {
		t.Errorf("%d e-mails sent, want 2 (the code, the booking): %q", n, subjects)
	}
}

func getPage(t *testing.T, client *http.Client, u string) string {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, body)
	}
	return string(body)
}

func postForm(t *testing.T, client *http.Client, site, path string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, site+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", site)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
