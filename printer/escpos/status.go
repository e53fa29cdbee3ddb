package escpos

import "fmt"

// State is what a printer's status bytes say. The same bits come back to
// DLE EOT 1-4 and, grouped differently, in the four bytes of Automatic
// Status Back (GS a).
type State struct {
	Offline          bool // not printing: cover open, paper out or an error
	CoverOpen        bool
	FeedButton       bool // paper being fed by the feed button
	PaperOut         bool // roll paper end sensor
	PaperNearEnd     bool // roll paper near-end sensor
	PaperEndStop     bool // printing stopped because the paper ran out
	ErrorOccurred    bool
	RecoverableError bool // mechanical error that recovers when the cause is removed
	CutterError      bool
	Unrecoverable    bool // needs a power cycle or repair
	AutoRecoverable  bool // e.g. head too hot; clears by itself
	DrawerHigh       bool // drawer kick connector pin 3
}

// statusBit ties one bit of a status message to the field it reports.
type statusBit struct {
	byteIndex int
	bit       uint
	field     *bool
}

// realTimeBits lists the bits of the answer to DLE EOT n, per the ESC/POS
// reference; the paper sensors use two bits each.
func (s *State) realTimeBits(n byte) []statusBit {
	switch n {
	case StatusPrinter:
		return []statusBit{{0, 2, &s.DrawerHigh}, {0, 3, &s.Offline}, {0, 6, &s.FeedButton}}
	case StatusOffline:
		return []statusBit{{0, 2, &s.CoverOpen}, {0, 3, &s.FeedButton}, {0, 5, &s.PaperEndStop}, {0, 6, &s.ErrorOccurred}}
	case StatusError:
		return []statusBit{{0, 2, &s.RecoverableError}, {0, 3, &s.CutterError}, {0, 5, &s.Unrecoverable}, {0, 6, &s.AutoRecoverable}}
	case StatusPaper:
		return []statusBit{{0, 2, &s.PaperNearEnd}, {0, 3, &s.PaperNearEnd}, {0, 5, &s.PaperOut}, {0, 6, &s.PaperOut}}
	}
	return nil
}

// asbBits lists the bits of the four Automatic Status Back bytes.
func (s *State) asbBits() []statusBit {
	return []statusBit{
		{0, 2, &s.DrawerHigh}, {0, 3, &s.Offline}, {0, 5, &s.CoverOpen}, {0, 6, &s.FeedButton},
		{1, 2, &s.RecoverableError}, {1, 3, &s.CutterError}, {1, 5, &s.Unrecoverable}, {1, 6, &s.AutoRecoverable},
		{2, 0, &s.PaperNearEnd}, {2, 1, &s.PaperNearEnd}, {2, 2, &s.PaperOut}, {2, 3, &s.PaperOut},
	}
}

// encode sets the bits of msg that the fields say.
func encode(bits []statusBit, msg []byte) {
	for _, b := range bits {
		if *b.field {
			msg[b.byteIndex] |= 1 << b.bit
		}
	}
}

// decode sets the fields from msg; a field reported by two bits is set if
// either is.
func decode(bits []statusBit, msg []byte) {
	for _, b := range bits {
		*b.field = false
	}
	for _, b := range bits {
		if msg[b.byteIndex]&(1<<b.bit) != 0 {
			*b.field = true
		}
	}
}

// Fixed bits of every real-time status byte: bit 1 and bit 4 are 1, bit 0
// and bit 7 are 0. They let a reader tell a status byte from noise.
const (
	rtFixedMask = 0b1001_0011
	rtFixed     = 0b0001_0010
)

// RealTimeByte is the byte a printer in state s answers to DLE EOT n.
func (s State) RealTimeByte(n byte) byte {
	msg := []byte{rtFixed}
	encode(s.realTimeBits(n), msg)
	return msg[0]
}

// IsRealTimeByte reports whether b has the fixed bits of a DLE EOT answer.
func IsRealTimeByte(b byte) bool { return b&rtFixedMask == rtFixed }

// ApplyRealTime records in s what b, the answer to DLE EOT n, says. It
// fails if b is not a status byte, so noise on the line is not read as
// "all fine".
func (s *State) ApplyRealTime(n byte, b byte) error {
	if !IsRealTimeByte(b) {
		return fmt.Errorf("status byte %#02x for DLE EOT %d lacks the fixed bits 0xx1xx10", b, n)
	}
	bits := s.realTimeBits(n)
	if bits == nil {
		return fmt.Errorf("DLE EOT %d is not a status group this package reads (1-4)", n)
	}
	decode(bits, []byte{b})
	return nil
}

// ASB is the four-byte Automatic Status Back message for state s.
func (s State) ASB() [4]byte {
	m := [4]byte{0b0001_0000}
	encode(s.asbBits(), m[:])
	return m
}

// IsASBStart reports whether b can be the first byte of an ASB message
// (0xx1xx00); the other three bytes have bit 4 clear.
func IsASBStart(b byte) bool { return b&0b1001_0011 == 0b0001_0000 }

// ParseASB reads an Automatic Status Back message.
func ParseASB(m [4]byte) (State, error) {
	if !IsASBStart(m[0]) {
		return State{}, fmt.Errorf("ASB first byte %#02x is not of the form 0xx1xx00", m[0])
	}
	for i := 1; i < 4; i++ {
		if m[i]&0b1001_0000 != 0 {
			return State{}, fmt.Errorf("ASB byte %d is %#02x: bits 4 and 7 must be clear", i+1, m[i])
		}
	}
	var s State
	decode(s.asbBits(), m[:])
	s.ErrorOccurred = s.RecoverableError || s.CutterError || s.Unrecoverable || s.AutoRecoverable
	s.PaperEndStop = s.PaperOut && s.Offline
	return s, nil
}

// PaperSensorByte is the byte a printer in state s answers to GS r 1.
func (s State) PaperSensorByte() byte {
	var b byte
	if s.PaperNearEnd {
		b |= 0b0000_0011
	}
	if s.PaperOut {
		b |= 0b0000_1100
	}
	return b
}

// IsPaperSensorByte reports whether b can be an answer to GS r 1: bits 4
// and 7 are clear.
func IsPaperSensorByte(b byte) bool { return b&0b1001_0000 == 0 }

// ApplyPaperSensor records in s what b, the answer to GS r 1, says.
func (s *State) ApplyPaperSensor(b byte) error {
	if !IsPaperSensorByte(b) {
		return fmt.Errorf("paper sensor byte %#02x has bit 4 or 7 set", b)
	}
	s.PaperNearEnd, s.PaperOut = b&0b0011 != 0, b&0b1100 != 0
	return nil
}
