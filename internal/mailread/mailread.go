// Package mailread reads an e-mail as a resident's mail program does, for
// tests: the decoded subject and language, the text and HTML bodies, the
// other parts by content type, and the text of a QR code in a PNG.
package mailread

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"

	"github.com/makiuchi-d/gozxing"
	qrreader "github.com/makiuchi-d/gozxing/qrcode"
)

// Mail is an e-mail's content.
type Mail struct {
	Subject string
	// Lang is the Content-Language header.
	Lang string
	Text string
	HTML string
	// Parts are the non-text parts by content type (image/png,
	// text/calendar), PartHeaders their headers.
	Parts       map[string][]byte
	PartHeaders map[string]map[string][]string
}

// Read parses a message as it came over SMTP.
func Read(data []byte) (Mail, error) {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return Mail{}, fmt.Errorf("reading the e-mail: %w", err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return Mail{}, fmt.Errorf("decoding the subject: %w", err)
	}
	pm := Mail{Subject: subj, Lang: m.Header.Get("Content-Language"), Parts: map[string][]byte{}, PartHeaders: map[string]map[string][]string{}}
	if err := walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, map[string][]string(m.Header), &pm); err != nil {
		return Mail{}, err
	}
	return pm, nil
}

func walk(ctype, cte string, body io.Reader, hdr map[string][]string, pm *Mail) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading a part: %w", err)
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, p.Header, pm); err != nil {
				return err
			}
		}
	}
	var rd io.Reader = body
	switch strings.ToLower(cte) {
	case "base64":
		rd = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		rd = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return fmt.Errorf("decoding %s: %w", cte, err)
	}
	switch mt {
	case "text/plain":
		pm.Text = string(data)
	case "text/html":
		pm.HTML = string(data)
	default:
		pm.Parts[mt] = data
		pm.PartHeaders[mt] = hdr
	}
	return nil
}

// QR reads the text of the QR code in a PNG.
func QR(data []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("the QR image is not a PNG: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("preparing the image for the QR reader: %w", err)
	}
	res, err := qrreader.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", fmt.Errorf("no readable QR code in the image: %w", err)
	}
	return res.GetText(), nil
}
