package main

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// The kiosk while the server is down. These are the package's longest
// tests, and their file is named to come early: go test starts a
// package's parallel tests in the order of their files, and the longest
// started last ran on alone at the end of the package.

// The server stops while residents take 50 tickets at the kiosk: all are
// printed from the lease, and once the server is back all 50 are in its
// queue once each, in the order they were issued.
func TestKioskFiftyTicketsWhileTheServerIsDown(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	paper := t.TempDir()
	// Sent at full speed: this test is about the tickets, not the paper.
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"emulator://%s?pace=off\"\n", paper), noFrames)
	services := []string{"family", "child800", "good-start", "care"}
	waitUntil(t, "the leases", 10*time.Second, func() bool {
		left := kiosk.kiosk().Leases
		for _, s := range services {
			if left[s] != 20 {
				return false
			}
		}
		return true
	})
	o.proc.stop()
	const n = 50
	for i := range n {
		kiosk.issueByTaps("", services[i%len(services)])
	}
	waitUntil(t, "50 tickets printed", 20*time.Second, func() bool { return len(kiosk.printedTickets()) == n })
	logged := kiosk.printedTickets()
	for _, p := range logged {
		if !p.offline {
			t.Fatalf("ticket %s was not issued from the lease", p.number)
		}
	}
	if got := len(ticketPNGs(paper)); got != n {
		t.Errorf("%d tickets printed, want %d", got, n)
	}
	o.restart()
	waitUntil(t, "the hand-ins", 30*time.Second, func() bool { return kiosk.kiosk().Journal.PendingHandIns == 0 })
	var v queue.View
	o.api(o.tokens["clerk"], "GET", "/state", "", &v)
	// Each service's line keeps the order of issue.
	for _, s := range services {
		var want, got []string
		for _, p := range logged {
			if p.service == s {
				want = append(want, p.number)
			}
		}
		for _, w := range v.Waiting {
			if w.Service == s {
				got = append(got, w.Number)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s waiting on the server: %v, issued at the kiosk: %v", s, got, want)
		}
	}
	if len(v.Waiting) != n {
		t.Errorf("%d tickets waiting on the server, want %d", len(v.Waiting), n)
	}
}

// A power cut between journalling a ticket and printing it (kioskd killed
// with SIGKILL at that point, while offline, so the ticket came from the
// lease): on restart the kiosk finds the ticket, keeps it to hand in (a
// resident may hold it), and hands it in once when the server is back.
func TestKioskKilledBetweenJournalAndPrint(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	paper := t.TempDir()
	extra := smallPanel + fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\n", paper)
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", extra, noFrames, crashEnv+"=after-journal")
	waitUntil(t, "the leases", 10*time.Second, func() bool { return kiosk.kiosk().Leases["family"] == 20 })
	o.proc.stop()
	kiosk.tap("service:family")
	state, ok := kiosk.exited(15 * time.Second)
	if !ok {
		t.Fatal("kioskd did not stop at the test hook")
	}
	if ws, _ := state.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("kioskd ended %v, want killed by SIGKILL", state)
	}
	hook := kiosk.waitLog(regexp.MustCompile(`TEST HOOK: stopping hard after journalling" ticket=(\S+)`), time.Second)
	number := hook[1]
	if n := len(ticketPNGs(paper)); n != 0 {
		t.Fatalf("%d tickets printed before the kill", n)
	}

	again := runDeviceWith(t, kiosk.cmd.Args[2], kiosk.frames, "kiosk", noFrames)
	again.waitLog(regexp.MustCompile(`printing was cut short; a resident may hold it, so it will be handed in" .*ticket=`+number+` `), 10*time.Second)
	if ks := again.kiosk(); ks.Journal.PendingHandIns != 1 {
		t.Errorf("after the restart %d tickets wait to be handed in, want 1", ks.Journal.PendingHandIns)
	}
	o.restart()
	waitUntil(t, "the hand-in", 20*time.Second, func() bool { return again.kiosk().Journal.PendingHandIns == 0 })
	var v queue.View
	o.api(o.tokens["clerk"], "GET", "/state", "", &v)
	found := 0
	for _, w := range v.Waiting {
		if w.Number == number {
			found++
		}
	}
	if found != 1 {
		t.Errorf("the server has the interrupted ticket %s %d times, want once", number, found)
	}
}
