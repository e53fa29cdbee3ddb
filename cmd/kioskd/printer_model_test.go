package main

import (
	"fmt"
	"regexp"
	"testing"
	"time"
)

// A kiosk whose printer model prints no pictures says so when it starts,
// naming the model and what its tickets will lack; one whose model prints
// column images (the TH230) says nothing of the kind.
func TestKioskNamesPrinterThatCannotPrintTickets(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	shortfall := regexp.MustCompile(`level=ERROR msg="the printer cannot print all the office's tickets need" .*err="printer model ocd-300 \(Aures [^"]*prints no pictures[^"]*QR code`)
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\nprofile = \"OCD-300\"\n", t.TempDir()), noFrames)
	if !kiosk.sawLog(shortfall, 5*time.Second) {
		t.Errorf("kioskd with an OCD-300 did not say what it cannot print:\n%s", kiosk.logText())
	}
	kiosk.stop()
	columns := startDeviceWith(t, o, "kiosk2", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\nprofile = \"TH230\"\n", t.TempDir()), noFrames)
	if columns.sawLog(regexp.MustCompile(`printer cannot print`), 0) {
		t.Errorf("kioskd with a TH230 (column images) reports a shortfall:\n%s", columns.logText())
	}
}
