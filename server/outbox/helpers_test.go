package outbox

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/mailread"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

// freePort is a loopback port nothing listens on (yet).
func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// selfSigned is a certificate for 127.0.0.1 and a client config trusting it.
func selfSigned(t testing.TB) (server, client *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// parsedMail is an e-mail as a resident's mail program reads it.
type parsedMail = mailread.Mail

func parseMail(t testing.TB, data []byte) parsedMail {
	t.Helper()
	m, err := mailread.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// decodeQRPNG reads the text of the QR code in a PNG.
func decodeQRPNG(t testing.TB, data []byte) string {
	t.Helper()
	text, err := mailread.QR(data)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func parseICS(t testing.TB, data []byte) *ics.Calendar {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the calendar entry does not parse: %v\n%s", err, data)
	}
	return cal
}

// testOffice is an office in Warsaw's time zone with a bookable service.
func testOffice() *queue.Office {
	loc, _ := time.LoadLocation("Europe/Warsaw")
	return &queue.Office{
		ID: "ums", Name: "Urząd Miasta Starachowice", Location: loc,
		Services: []queue.Service{{ID: "id-card", Prefix: "A", Names: map[string]string{
			"pl": "Dowód osobisty", "en": "Identity card", "lt": "Asmens tapatybės kortelė", "ru": "Удостоверение личности", "uk": "Посвідчення особи",
		}, Bookable: true}},
		Counters: []queue.Counter{{Number: 3, Name: "3"}},
		Booking:  queue.BookingRules{SlotLength: 15 * time.Minute, Retention: 30 * 24 * time.Hour},
	}
}

var testBring = map[string]string{
	"pl": "Stary dowód i zdjęcie", "en": "Your old card and a photo", "lt": "Senąją kortelę ir nuotrauką",
	"ru": "Старое удостоверение и фото", "uk": "Старе посвідчення і фото",
}

func testComposer() *Composer {
	o := testOffice()
	return &Composer{
		Catalog: i18n.Messages(), Offices: map[string]*queue.Office{o.ID: o},
		Places: map[string]officeconfig.OfficeMessages{o.ID: {
			Address: "ul. Radomska 45, 27-200 Starachowice", MapURL: "https://www.openstreetmap.org/?mlat=51.05&mlon=21.07",
			Bring: map[string]map[string]string{"id-card": testBring},
		}},
		PublicURL: "https://kolejka.example.pl",
	}
}

// testLog is a logger writing JSON to a buffer the test reads.
type testLog struct{ lockedbuf.Buffer }

func (l *testLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openTest opens an outbox in the test's directory with quick retries.
func openTest(t testing.TB, dir string, opts Options) *Outbox {
	t.Helper()
	opts.Path = filepath.Join(dir, "outbox.db")
	if opts.FirstRetry == 0 {
		opts.FirstRetry = 20 * time.Millisecond
	}
	if opts.MaxRetry == 0 {
		opts.MaxRetry = 200 * time.Millisecond
	}
	o, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func emailConfig(port int) officeconfig.Email {
	return officeconfig.Email{Host: "127.0.0.1", Port: port, From: "Urząd Miasta <kolejka@example.pl>", TLS: officeconfig.TLSNone}
}
