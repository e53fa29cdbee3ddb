package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/server/notice"
)

// NewTexter returns the SMS deliverer cfg names: SMSAPI.pl or a webhook.
func NewTexter(cfg officeconfig.SMS, c *Composer, client *http.Client) (Deliverer, error) {
	if client == nil {
		client = http.DefaultClient
	}
	switch cfg.Driver {
	case officeconfig.SMSDriverSMSAPI:
		return &SMSAPI{cfg: cfg, compose: c, client: client}, nil
	case officeconfig.SMSDriverWebhook:
		return &Webhook{cfg: cfg, compose: c, client: client}, nil
	}
	return nil, fmt.Errorf("SMS driver %q: use smsapi or webhook", cfg.Driver)
}

// PhoneNumber writes a phone number as gateways want it: digits only,
// with the country code (countryCode is put before a 9-digit national
// number).
func PhoneNumber(contact, countryCode string) (string, error) {
	s := strings.TrimSpace(contact)
	international := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) && r < 128 {
			return r
		}
		return -1
	}, s)
	if strings.HasPrefix(s, "00") {
		digits = strings.TrimPrefix(digits, "00")
	}
	if !international && len(digits) == 9 {
		digits = countryCode + digits
	}
	if len(digits) < 9 || len(digits) > 15 {
		return "", errors.New("not a phone number with 9 to 15 digits")
	}
	return digits, nil
}

// SMSAPI sends through SMSAPI.pl's REST API as documented: POST sms.do
// with an OAuth bearer token and the form parameters to, message, from,
// encoding=utf-8 and format=json; it answers with the message's id and
// status, or {"error": code, "message": text}.
type SMSAPI struct {
	cfg     officeconfig.SMS
	compose *Composer
	client  *http.Client
}

// smsapiAnswer is both of SMSAPI's answers: a list of sent messages, or
// an error.
type smsapiAnswer struct {
	Count int `json:"count"`
	List  []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Error  *int   `json:"error"`
	} `json:"list"`
	Error   int    `json:"error"`
	Message string `json:"message"`
}

// smsapiTemporary are SMSAPI's error codes worth retrying: internal
// errors (8, 201, 666, 999) and an account out of points (103), which the
// office can top up.
var smsapiTemporary = map[int]bool{8: true, 103: true, 201: true, 666: true, 999: true}

// Deliver sends n's text.
func (s *SMSAPI) Deliver(ctx context.Context, n notice.Notice) error {
	to, err := PhoneNumber(n.Contact, s.cfg.CountryCode)
	if err != nil {
		return Permanent(err)
	}
	form := url.Values{"to": {to}, "message": {s.compose.SMS(n)}, "encoding": {"utf-8"}, "format": {"json"}}
	if s.cfg.Sender != "" {
		form.Set("from", s.cfg.Sender)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return Permanent(fmt.Errorf("SMSAPI request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("SMSAPI: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("SMSAPI: reading the answer: %w", err)
	}
	return smsapiResult(resp.StatusCode, body)
}

// smsapiResult reads SMSAPI's answer: nil if the message was accepted,
// else why not, Permanent unless retrying may help.
func smsapiResult(status int, body []byte) error {
	var a smsapiAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		if status >= 500 {
			return fmt.Errorf("SMSAPI: HTTP %d", status)
		}
		return fmt.Errorf("SMSAPI: HTTP %d, an answer that is not its JSON: %w", status, err)
	}
	if a.Error != 0 {
		err := fmt.Errorf("SMSAPI error %d: %s", a.Error, a.Message)
		if smsapiTemporary[a.Error] {
			return err
		}
		return Permanent(err)
	}
	if status/100 != 2 {
		return fmt.Errorf("SMSAPI: HTTP %d", status)
	}
	if a.Count < 1 || len(a.List) == 0 {
		return errors.New("SMSAPI: the answer lists no message sent")
	}
	if e := a.List[0].Error; e != nil {
		return Permanent(fmt.Errorf("SMSAPI refused the message: error %d", *e))
	}
	return nil
}

// Webhook sends through a generic HTTP endpoint: a POST of JSON
// {to, text, lang, kind}, with the shared secret as a bearer token and an
// HMAC-SHA256 of the body in SignatureHeader.
type Webhook struct {
	cfg     officeconfig.SMS
	compose *Composer
	client  *http.Client
}

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
// under the webhook's secret.
const SignatureHeader = "X-Numerek-Signature"

// WebhookMessage is the webhook's body.
type WebhookMessage struct {
	To   string `json:"to"`
	Text string `json:"text"`
	Lang string `json:"lang"`
	Kind string `json:"kind"`
}

// Sign is the signature of body under secret, as SignatureHeader carries it.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver posts n's text. A 4xx answer other than 408 and 429 is
// permanent; anything else but 2xx is retried.
func (w *Webhook) Deliver(ctx context.Context, n notice.Notice) error {
	to, err := PhoneNumber(n.Contact, w.cfg.CountryCode)
	if err != nil {
		return Permanent(err)
	}
	body, err := json.Marshal(WebhookMessage{To: "+" + to, Text: w.compose.SMS(n), Lang: n.Lang, Kind: string(n.Kind)})
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	if w.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
		req.Header.Set(SignatureHeader, Sign(w.cfg.Token, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("SMS webhook: %w", err)
	}
	return webhookAnswer("SMS webhook", resp)
}
