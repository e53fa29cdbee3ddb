package printer

import (
	"io"
	"sync"

	"github.com/numerek/numerek/printer/escpos"
)

// answers sorts what a printer sends back into the three kinds ESC/POS
// has, which their bit patterns tell apart: real-time status bytes
// (0xx1xx10), four-byte Automatic Status Back messages (starting 0xx1xx00)
// and answers to GS r (0xx0xxxx).
type answers struct {
	realTime chan byte
	sensor   chan byte
	done     chan struct{} // closed when the line is gone

	mu  sync.Mutex
	asb *escpos.State // the last Automatic Status Back, if any came
	err error
}

func newAnswers(r io.Reader) *answers {
	a := &answers{realTime: make(chan byte, 16), sensor: make(chan byte, 16), done: make(chan struct{})}
	go a.read(r)
	return a
}

func (a *answers) read(r io.Reader) {
	defer close(a.done)
	buf := make([]byte, 64)
	var asb []byte
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			switch {
			case len(asb) > 0:
				asb = append(asb, b)
				if len(asb) == 4 {
					if st, err := escpos.ParseASB([4]byte(asb)); err == nil {
						a.mu.Lock()
						a.asb = &st
						a.mu.Unlock()
					}
					asb = asb[:0]
				}
			case escpos.IsRealTimeByte(b):
				offer(a.realTime, b)
			case escpos.IsASBStart(b):
				asb = append(asb, b)
			case escpos.IsPaperSensorByte(b):
				offer(a.sensor, b)
			}
		}
		if err != nil {
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
			return
		}
	}
}

// offer queues b, dropping the oldest answer if nobody has read the
// queue: a late answer to an old request must not pass for a new one.
func offer(ch chan byte, b byte) {
	for {
		select {
		case ch <- b:
			return
		default:
			select {
			case <-ch:
			default:
			}
		}
	}
}

// drain throws away answers nobody waited for.
func (a *answers) drain() {
	for {
		select {
		case <-a.realTime:
		case <-a.sensor:
		default:
			return
		}
	}
}
