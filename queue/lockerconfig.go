package queue

import (
	"fmt"
	"slices"
	"time"
)

// The bounds of a locker's settings: a compartment id fits the number
// painted on a door and the keypad's screen; a deadline of more than 90
// days keeps a document longer than any office should.
const (
	maxCompartmentID = 8
	maxCompartments  = 200
	maxLockerWait    = 90 * 24 * time.Hour
	maxDoorAlarm     = time.Hour
)

// checkLockers checks each locker: an id of its own, a name in every
// office language, compartments with ids of their own and a size, the
// document types it takes, and times that fit together.
func (o *Office) checkLockers(add report) {
	ids := map[string]int{}
	for i, l := range o.Lockers {
		p := fmt.Sprintf("locker[%d]", i)
		if !validID(l.ID) {
			add(p+".id", "%q must be 1-40 lowercase letters, digits or dashes", l.ID)
		} else if j, dup := ids[l.ID]; dup {
			add(p+".id", "%q is already used by locker[%d]", l.ID, j)
		}
		ids[l.ID] = i
		for _, lang := range o.Languages {
			if l.Names[lang] == "" {
				add(p+".name", "no name in %q, one of the office's languages", lang)
			}
		}
		checkLockerTimes(p, l, add)
		checkCompartments(p, l.Compartments, add)
		o.checkLockerDocuments(p, l.Documents, add)
	}
}

func checkLockerTimes(p string, l Locker, add report) {
	switch {
	case l.Deadline <= 0:
		add(p+".deadline", "missing: how long a document waits for pickup (e.g. \"168h\")")
	case l.Deadline > maxLockerWait:
		add(p+".deadline", "%v is longer than 90 days", l.Deadline)
	}
	if l.RemindBefore < 0 {
		add(p+".remind_before", "must be 0 (no reminder) or more")
	} else if l.Deadline > 0 && l.RemindBefore >= l.Deadline {
		add(p+".remind_before", "%v is not shorter than the deadline (%v): the reminder would come before the document is in", l.RemindBefore, l.Deadline)
	}
	if l.DoorAlarm < 0 || l.DoorAlarm > maxDoorAlarm {
		add(p+".door_alarm", "%v must be between 0 (the default, 60s) and 1h", l.DoorAlarm)
	}
}

func checkCompartments(p string, cs []Compartment, add report) {
	if len(cs) == 0 {
		add(p+".compartment", "no compartment defined")
	}
	if len(cs) > maxCompartments {
		add(p+".compartment", "%d compartments: at most %d", len(cs), maxCompartments)
	}
	used := map[string]int{}
	for i, c := range cs {
		cp := fmt.Sprintf("%s.compartment[%d]", p, i)
		if c.ID == "" || len(c.ID) > maxCompartmentID || !validID(c.ID) {
			add(cp+".id", "%q must be 1-%d lowercase letters, digits or dashes, as painted on the door", c.ID, maxCompartmentID)
		} else if j, dup := used[c.ID]; dup {
			add(cp+".id", "%q is already used by compartment[%d]", c.ID, j)
		}
		used[c.ID] = i
		if !slices.Contains(CompartmentSizes, c.Size) {
			add(cp+".size", "%q is not S, M or L", c.Size)
		}
	}
}

func (o *Office) checkLockerDocuments(p string, ds []LockerDocument, add report) {
	if len(ds) == 0 {
		add(p+".document", "no document type defined: the locker would take nothing")
	}
	used := map[string]int{}
	for i, d := range ds {
		dp := fmt.Sprintf("%s.document[%d]", p, i)
		if !validID(d.ID) {
			add(dp+".id", "%q must be 1-40 lowercase letters, digits or dashes", d.ID)
		} else if j, dup := used[d.ID]; dup {
			add(dp+".id", "%q is already used by document[%d]", d.ID, j)
		}
		used[d.ID] = i
		for _, lang := range o.Languages {
			if d.Names[lang] == "" {
				add(dp+".name", "no name in %q, one of the office's languages", lang)
			}
		}
	}
}
