package queue

import (
	"fmt"
	"time"
)

// errorCode names one command error and the arguments of its English
// format, so that a screen can say it in its reader's language.
type errorCode struct {
	code   string
	params []string
}

// errorCodes maps each format the commands' errors are made from to its
// code. The English format stays at the call site, where it reads best;
// TestEveryErrorHasACode keeps this table complete, and i18n's catalogs
// have an "error.<code>" message for each entry in every language.
var errorCodes = map[string]errorCode{
	"no ticket %q today":                                                       {"no-ticket", []string{"ticket"}},
	"no service %q in office %s":                                               {"no-service", []string{"service", "office"}},
	"no counter %d in office %s":                                               {"no-counter", []string{"counter", "office"}},
	"no booking %q":                                                            {"no-booking", []string{"booking"}},
	"service %q of booking %s is no longer offered":                            {"booking-service-gone", []string{"service", "booking"}},
	"rating: %q is not good, neutral or bad":                                   {"bad-rating", []string{"rating"}},
	"note: longer than %d characters":                                          {"note-too-long", []string{"max"}},
	"status: %q is not open, paused or closed":                                 {"bad-counter-status", []string{"status"}},
	"service: %q does not take bookings":                                       {"not-bookable", []string{"service"}},
	"request_id: missing; a leased ticket needs one so it is accepted once":    {"request-id-missing", nil},
	"request_id: missing; a withdrawal names the request it withdraws":         {"withdrawal-request-id-missing", nil},
	"this request was withdrawn by its device, which printed nothing for it":   {"request-withdrawn", nil},
	"this request confirmed a booked visit; it gives no leased ticket":         {"request-was-check-in", nil},
	"ticket %s of this request was printed from the kiosk's lease and stands":  {"leased-ticket-stands", []string{"ticket"}},
	"ticket %s confirms a booked visit: it stays, and the code gives it again": {"check-in-ticket-stays", []string{"ticket"}},
	"request_id: longer than 64 characters":                                    {"request-id-too-long", nil},
	"lang: missing":                                                            {"lang-missing", nil},
	"lang: %q is not a two-letter language code":                               {"bad-lang", []string{"lang"}},
	"channel: %q is not one of kiosk, phone, booking, assistant":               {"bad-channel", []string{"channel"}},
	"issued_at: missing":                                                       {"issued-at-missing", nil},
	"id: a booking needs an id":                                                {"booking-id-missing", nil},
	"fault: too long":                                                          {"fault-too-long", nil},
	"device: missing":                                                          {"device-missing", nil},
	"device: a lease needs a device and an id":                                 {"lease-device-missing", nil},
	"count: %d must be 1-%d":                                                   {"bad-lease-count", []string{"count", "max"}},
	"to_service: give another service or a counter to transfer to":             {"transfer-nowhere", nil},
	"to_counter: the ticket is already at counter %d":                          {"transfer-same-counter", []string{"counter"}},
	"service %s has no numbers left today":                                     {"no-numbers-left", []string{"service"}},
	"ticket %s is already being served":                                        {"ticket-being-served", []string{"ticket"}},
	"ticket %s is being served: finish it instead":                             {"ticket-serving-finish", []string{"ticket"}},
	"ticket %s is parked at counter %d":                                        {"ticket-parked", []string{"ticket", "counter"}},
	"ticket %s is booked for %s and cannot be called before":                   {"ticket-booked-later", []string{"ticket", "time"}},
	"ticket %s is already rated":                                               {"ticket-rated", []string{"ticket"}},
	"ticket %s is %s: only a waiting ticket can be moved here":                 {"move-not-waiting", []string{"ticket", "state"}},
	"ticket %s is %s: only a served ticket can be rated":                       {"rate-not-served", []string{"ticket", "state"}},
	"ticket %s is %s, not waiting":                                             {"call-not-waiting", []string{"ticket", "state"}},
	"ticket %s is %s and cannot be cancelled":                                  {"cancel-not-waiting", []string{"ticket", "state"}},
	"ticket %s already exists under another request":                           {"number-taken", []string{"ticket"}},
	"number %s on %s is not in a lease granted to device %q":                   {"not-in-lease", []string{"ticket", "day", "device"}},
	"this office does not allow calling a ticket out of order":                 {"call-specific-off", nil},
	"counter %d is closed: open it first":                                      {"counter-closed", []string{"counter"}},
	"outcomes: %q is not an outcome of service %s":                             {"bad-outcome", []string{"outcome", "service"}},
	"counter %d has nothing to undo from the last %d seconds":                  {"nothing-to-undo", []string{"counter", "seconds"}},
	"counter %d is on a break: resume it first":                                {"counter-on-break", []string{"counter"}},
	"counter %d has ticket %s: finish, transfer or park it first":              {"counter-busy", []string{"counter", "ticket"}},
	"counter %d has no current ticket":                                         {"counter-empty", []string{"counter"}},
	"counter %d finished no ticket in the last %v":                             {"nothing-to-rate", []string{"counter", "minutes"}},
	"booking %s is already confirmed at the kiosk":                             {"booking-confirmed", []string{"booking"}},
	"booking %s already exists":                                                {"booking-exists", []string{"booking"}},
	"no counter action %q; the actions are %s":                                 {"no-counter-action", []string{"action", "actions"}},
	"%s: the %s action does not take it; its parameters: %s":                   {"counter-action-param", []string{"param", "action", "takes"}},
	"ticket: missing; name the ticket to call":                                 {"call-ticket-missing", nil},
	"to_counter: %q is not a counter number":                                   {"bad-to-counter", []string{"value"}},
	"keep_place: %q is not yes or no":                                          {"bad-keep-place", []string{"value"}},
	"holders: only a phone ticket has holders":                                 {"holders-not-phone", nil},
	"holders: more than %d":                                                    {"too-many-holders", []string{"max"}},
	"holders[%d]: must be 1-%d characters":                                     {"bad-holder", []string{"index", "max"}},
	"presence: %q is not here or on-the-way":                                   {"bad-presence", []string{"presence"}},
	"ticket %s has ended (%s)":                                                 {"ticket-ended", []string{"ticket", "state"}},
	// The booking desk's closures (closure.go).
	"id: a closure needs an id":                               {"closure-id-missing", nil},
	"closure %s already exists":                               {"closure-exists", []string{"closure"}},
	"from, to: a closure needs a start and an end":            {"closure-times-missing", nil},
	"to: the end (%s) must be after the start (%s)":           {"closure-end-before-start", []string{"to", "from"}},
	"to: %s has already passed":                               {"closure-past", []string{"to"}},
	"reason: say why bookings are closed; residents are told": {"closure-reason-missing", nil},
	"reason: at most %d characters":                           {"closure-reason-too-long", []string{"max"}},
	"no closure %q":                                           {"no-closure", []string{"closure"}},
	// The lockers' deposits (lockerdeposit.go).
	"deposit: an id of 1-%d characters is needed":             {"deposit-id-missing", []string{"max"}},
	"deposit %s already exists":                               {"deposit-exists", []string{"deposit"}},
	"no locker %q in office %s":                               {"no-locker", []string{"locker", "office"}},
	"document: locker %s does not take %q":                    {"locker-document-refused", []string{"locker", "document"}},
	"size: %q is not S, M or L":                               {"bad-compartment-size", []string{"size"}},
	"%s: not a hashed locker code (lookup, salt and hash)":    {"bad-locker-code-hash", []string{"field"}},
	"code %s is already in use at locker %s; make another":    {"locker-code-taken", []string{"lookup", "locker"}},
	"locker %s has no free accessible compartment of size %s": {"no-free-accessible-compartment", []string{"locker", "size"}},
	"locker %s has no free compartment of size %s":            {"no-free-compartment", []string{"locker", "size"}},
	"no deposit %q": {"no-deposit", []string{"deposit"}},
	"deposit %s is %s: only a reserved deposit can be stored":              {"store-not-reserved", []string{"deposit", "state"}},
	"deposit %s is %s: only a stored deposit can be picked up":             {"pickup-not-stored", []string{"deposit", "state"}},
	"deposit %s is %s: only a stored or expired deposit can be taken back": {"retrieve-not-stored", []string{"deposit", "state"}},
	"reason: a cancellation's reason has at most %d characters":            {"cancel-reason-too-long", []string{"max"}},
	"deposit %s is %s: only a reservation can be cancelled":                {"cancel-not-reserved", []string{"deposit", "state"}},
	"which: %q is not clerk or pickup":                                     {"bad-code-kind", []string{"which"}},
	"deposit %s has ended (%s): its codes cannot change":                   {"deposit-ended", []string{"deposit", "state"}},
	"until: %s has already passed":                                         {"code-until-past", []string{"until"}},
}

// ErrorCodes lists every code with its parameter names, for the catalogs'
// completeness test.
func ErrorCodes() map[string][]string {
	out := make(map[string][]string, len(errorCodes))
	for _, c := range errorCodes {
		out[c.code] = c.params
	}
	return out
}

// coded makes an error of kind from format and args, with its code and
// named parameters when the format has a code.
func coded(kind ErrorKind, format string, args []any) *Error {
	e := &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
	c, ok := errorCodes[format]
	if !ok {
		return e
	}
	e.Code = c.code
	if len(c.params) > 0 {
		e.Params = make(map[string]string, len(c.params))
		for i, name := range c.params {
			if i < len(args) {
				e.Params[name] = paramText(args[i])
			}
		}
	}
	return e
}

// paramText is an argument as a placeholder shows it: durations in whole
// minutes, everything else as it prints.
func paramText(v any) string {
	if d, ok := v.(time.Duration); ok {
		return fmt.Sprint(int(d.Round(time.Minute) / time.Minute))
	}
	return fmt.Sprint(v)
}
