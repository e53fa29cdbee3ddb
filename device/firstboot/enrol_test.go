package firstboot_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/firstboot"
	"github.com/numerek/numerek/device/pairing"
	"github.com/numerek/numerek/server/servertest"
	"github.com/numerek/numerek/store"
)

// A card whose numerek.txt gives an enrolment batch's secret: kioskd's
// file made from it sends the secret, and a real queue server pairs the
// device with the batch's office and role without an admin's click.
func TestEnrolmentFromTheCardPairsWithoutAnAdmin(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	secret, batch, err := srv.Devices().Store().CreateBatch(store.EnrolmentBatch{Office: srv.Office.ID, Role: "hall", NamePrefix: "hala-",
		UsesLeft: 1, Expires: srv.Clock.Now().Add(time.Hour), CreatedBy: "kierownik", Created: srv.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t)
	d.card("# sala obsługi\nserver = " + srv.URL + "\nenrolment = " + secret + "\n")
	d.boots()

	local, err := config.ReadLocal(filepath.Join(d.data, firstboot.KioskdFile))
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var codes []string
	creds, err := pairing.Run(ctx, pairing.Options{ServerURL: local.ServerURL, Key: key, Version: "test", Enrolment: local.Enrolment,
		// The server's first interval is 5 s; a tenth of it here.
		Second:  100 * time.Millisecond,
		OnState: func(s pairing.State) { codes = append(codes, s.Code) }})
	if err != nil {
		t.Fatalf("pairing with the card's secret: %v (shown %v)", err, codes)
	}
	if creds.Office != srv.Office.ID || creds.Role != "hall" || creds.Token == "" {
		t.Errorf("credentials %+v", creds)
	}
	if dev, _, _ := srv.Devices().Store().Device(creds.DeviceID); dev.PairedBy != "enrolment:"+batch.ID {
		t.Errorf("paired by %q, want the batch", dev.PairedBy)
	}
}
