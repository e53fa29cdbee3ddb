package server

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
)

// FuzzLockerReport: a locker's reports come from a device's journal,
// replayed after crashes and outages; whatever a body holds, the server
// takes a report with an id, a known kind and a compartment of the
// locker, or says what is wrong, never panics.
func FuzzLockerReport(f *testing.F) {
	f.Add(`{"id":"j-1","kind":"stored","deposit":"d","compartment":"3","at":"2026-11-23T09:00:00Z"}`)
	f.Add(`{"id":"j-2","kind":"picked-up","deposit":"d","compartment":"3","at":"2026-11-23T09:00:00Z","offline":true}`)
	f.Add(`{"id":"j-3","kind":"door-forced","compartment":"12","at":"2026-11-23T09:00:00Z"}`)
	f.Add(`{"id":"","kind":"stored"}`)
	f.Add(`{"id":"j","kind":"stored","compartment":"3","at":"0001-01-01T00:00:00Z"}`)
	l := queue.Locker{ID: "b", Compartments: []queue.Compartment{{ID: "3", Size: "S"}, {ID: "12", Size: "L"}}}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/offices/o/lockers/b/reports", strings.NewReader(body))
		var rep protocol.LockerReport
		err := decodeJSON(httptest.NewRecorder(), req, &rep)
		if err == nil {
			err = checkLockerReport(rep, l)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal that says nothing")
			}
			return
		}
		if rep.ID == "" || len(rep.ID) > maxReportID || !slices.Contains(lockerReportKinds, rep.Kind) || rep.At.IsZero() {
			t.Fatalf("took %+v", rep)
		}
		if _, ok := l.Compartment(rep.Compartment); !ok {
			t.Fatalf("took a report of compartment %q", rep.Compartment)
		}
		if depositReport(rep.Kind) && rep.Deposit == "" {
			t.Fatalf("took a %s report without its deposit", rep.Kind)
		}
	})
}
