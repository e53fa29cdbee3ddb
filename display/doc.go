// Package display draws the screens of a Numerek device with Ebiten: the
// lobby ticket kiosk (Kiosk), the number display above a counter (Counter),
// the big hall screen (Hall), the document pickup locker's touch screen
// (Locker), and the pairing screen of a device the server does not know
// yet (Pairing).
//
// A screen is built with its constructor (NewKiosk, NewCounter, NewHall),
// fed by the device's goroutines through its Set methods (SetView,
// SetOnline, SetPrinterStatus...), which are safe to call at any time from
// any goroutine, and shown by Run on the main goroutine:
//
//	hall := display.NewHall(display.HallConfig{Panel: display.LandscapeHD})
//	go followEvents(ctx, func(v queue.View, fresh []queue.RecentCall) { hall.SetView(v, fresh); announce(fresh) })
//	err := display.Run(ctx, hall, display.RunOptions{})
//
// Screens draw only when something changed: a Set method, a tap, or a
// moment that changes what is shown (the clock's minute, the end of a
// blink, an idle timeout). Between those the Ebiten loop sleeps in the
// window system's event wait (see Run), so an idle screen costs next to no
// CPU even with software GL.
//
// Every text is fitted to its place (see label): wrapped, then shrunk to a
// floor, then replaced by the office's short form (a service's short
// name), and cut with "…" only when none of that fits. Each frame records
// what it laid out and where, so the tests check every screen, state and
// language for cut or overlapping text.
//
// The package knows no network, printer, sound or lock: the kiosk reports
// what the resident chose through the KioskActions it is given, the locker
// the code typed or scanned through its LockerActions, and the device does
// the rest.
package display
