package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/server/notice"
)

// Mailer delivers notices as e-mail through an SMTP server.
type Mailer struct {
	cfg     officeconfig.Email
	compose *Composer
	// TLSConfig, if set, is used for STARTTLS and implicit TLS (tests
	// trust their own certificate with it).
	TLSConfig *tls.Config
}

// NewMailer returns a mailer handing messages to the server cfg names.
func NewMailer(cfg officeconfig.Email, c *Composer) *Mailer {
	return &Mailer{cfg: cfg, compose: c}
}

// Message builds n's e-mail: text and HTML, the QR inline, the calendar
// entry attached.
func (m *Mailer) Message(n notice.Notice) (*mail.Msg, error) {
	content, err := m.compose.Mail(n)
	if err != nil {
		return nil, err
	}
	msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8))
	if err := msg.From(m.cfg.From); err != nil {
		return nil, Permanent(fmt.Errorf("the sender address: %w", err))
	}
	if err := msg.To(n.Contact); err != nil {
		// The contact was checked when it was given; this is not worth a retry.
		return nil, Permanent(errors.New("the recipient's address is not valid"))
	}
	msg.Subject(content.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader(mail.HeaderContentLang, n.Lang)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, content.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, content.HTML)
	if content.QR != nil {
		if err := msg.EmbedReader("qr.png", bytes.NewReader(content.QR),
			mail.WithFileContentID(QRContentID), mail.WithFileContentType(mail.ContentType("image/png"))); err != nil {
			return nil, fmt.Errorf("embedding the QR code: %w", err)
		}
	}
	if content.Calendar != nil {
		ct := mail.ContentType("text/calendar; method=" + content.CalendarMethod)
		if err := msg.AttachReader("visit.ics", bytes.NewReader(content.Calendar),
			mail.WithFileContentType(ct)); err != nil {
			return nil, fmt.Errorf("attaching the calendar entry: %w", err)
		}
	}
	return msg, nil
}

// Deliver hands n's e-mail to the SMTP server. A refusal with a 5xx code
// is permanent; anything else (no connection, 4xx) is retried.
func (m *Mailer) Deliver(ctx context.Context, n notice.Notice) error {
	msg, err := m.Message(n)
	if err != nil {
		return err
	}
	opts := []mail.Option{mail.WithPort(m.cfg.Port), mail.WithTimeout(30 * time.Second)}
	switch m.cfg.TLS {
	case officeconfig.TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case officeconfig.TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if m.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(m.TLSConfig))
	}
	if m.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(m.cfg.Username), mail.WithPassword(m.cfg.Password))
	}
	client, err := mail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return Permanent(fmt.Errorf("setting up the SMTP client: %w", err))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
			return Permanent(fmt.Errorf("the SMTP server refused the message: %w", err))
		}
		return fmt.Errorf("sending through %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
	}
	return nil
}
