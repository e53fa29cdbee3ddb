package protocol

import "time"

// LockerReportsPath is where a locker device posts what its doors did
// (POST, a device token of role locker of that office; idempotent by the
// report's ID, journalled on the device first).
const LockerReportsPath = "/api/v1/offices/{office}/lockers/{locker}/reports"

// LockerSecondFactorPath asks the server to send a deposit's one-time
// code to the resident's phone (POST {} -> 202 LockerSecondFactorSent);
// LockerSecondFactorCheckPath checks what the resident typed
// (POST LockerSecondFactorCode -> 200 LockerSecondFactorResult, 422 when
// wrong). Both need the server: offline, the screen says so.
const (
	LockerSecondFactorPath      = "/api/v1/offices/{office}/lockers/{locker}/deposits/{deposit}/second-factor"
	LockerSecondFactorCheckPath = LockerSecondFactorPath + "/check"
)

// The kinds of locker reports.
const (
	LockerReportStored       = "stored"
	LockerReportPickedUp     = "picked-up"
	LockerReportRetrieved    = "retrieved"
	LockerReportLockFailed   = "lock-failed"
	LockerReportDoorForced   = "door-forced"
	LockerReportDoorLeftOpen = "door-left-open"
	LockerReportDoorClosed   = "door-closed"
)

// LockerReport is one thing a locker's door did, as the device journalled
// it.
type LockerReport struct {
	// ID is the device's journal id: a retry is not applied twice.
	ID string `json:"id"`
	// Kind is one of the LockerReport* kinds.
	Kind        string `json:"kind"`
	Deposit     string `json:"deposit,omitempty"`
	Compartment string `json:"compartment"`
	// At is the device's time of the door closing.
	At      time.Time `json:"at"`
	Offline bool      `json:"offline,omitempty"`
}

// LockerReportAnswer is the server's answer to a report: Applied when it
// changed the office's state (now or on the first of its retries), Seq
// the office's seq after it.
type LockerReportAnswer struct {
	Applied bool   `json:"applied"`
	Seq     uint64 `json:"seq"`
}

// LockerSecondFactorSent says where the one-time code went, masked
// ("+48 *** *** 789").
type LockerSecondFactorSent struct {
	SentTo string `json:"sent_to"`
}

// LockerSecondFactorCode is what the resident typed.
type LockerSecondFactorCode struct {
	Code string `json:"code"`
}

// LockerSecondFactorResult is whether the one-time code was right.
type LockerSecondFactorResult struct {
	OK bool `json:"ok"`
}

// LockerHealth is a locker's doors in the device's health report.
type LockerHealth struct {
	// DoorsOpen are the compartments open now.
	DoorsOpen []string `json:"doors_open,omitempty"`
	// DoorsAlarm are those open longer than the locker's DoorAlarm.
	DoorsAlarm []string `json:"doors_alarm,omitempty"`
	// LocksFailed were pulsed and their door never opened (until it next
	// opens).
	LocksFailed []string `json:"locks_failed,omitempty"`
	// DoorsForced opened without a pulse (until staff open them properly).
	DoorsForced []string `json:"doors_forced,omitempty"`
	// Pending counts the reports not yet acknowledged by the server.
	Pending int `json:"pending_reports"`
}
