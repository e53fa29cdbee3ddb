package escpos

import "fmt"

// Command is one ESC/POS command, or one byte of text, cut from the input.
type Command struct {
	Offset int    // of its first byte in the stream
	Bytes  []byte // the whole command
	Name   string // "ESC @", "GS v 0", "text", ...
	Known  bool   // false: the parser does not know the command, and took only its first bytes
}

// DefaultLineSpacing is the line feed of a printer after ESC @ or ESC 2,
// in dots: 30 on the printers Numerek supports.
const DefaultLineSpacing = 30

// Motion is how far cmd moves the paper, in dot lines, and whether it
// cuts: what the print mechanism spends its time on. A line feed counts
// as the default 30-dot line; a Feeds that has seen the commands before
// knows the line spacing they set.
func (c Command) Motion() (dots int, cut bool) {
	var f Feeds
	return f.Motion(c)
}

// Feeds follows the line spacing through a command stream (ESC 3, ESC 2,
// ESC @), so a line feed moves the paper as far as the printer would: the
// 24 dots of a column-image strip, not the 30 of a text line; and it
// remembers the height of a stored GS ( L picture for the command that
// prints it. The zero value starts at the default spacing.
type Feeds struct {
	spacing int
	set     bool // false: DefaultLineSpacing
	stored  int  // height of the picture GS ( L 112 stored, printed by GS ( L 50
}

// Motion is how far c moves the paper and whether it cuts, after the
// commands Motion has already been given.
func (f *Feeds) Motion(c Command) (dots int, cut bool) {
	b := c.Bytes
	spacing := DefaultLineSpacing
	if f.set {
		spacing = f.spacing
	}
	switch c.Name {
	case "ESC 3":
		f.spacing, f.set = int(b[2]), true
	case "ESC 2", "ESC @":
		f.set = false
	case "LF":
		return spacing, false
	case "ESC J":
		return int(b[2]), false
	case "ESC d":
		return int(b[2]) * spacing, false
	case "GS v 0":
		return int(b[6]) + int(b[7])<<8, false
	case "GS ( L":
		switch {
		case len(b) >= 15 && b[6] == 112:
			f.stored = int(b[13]) | int(b[14])<<8
		case len(b) >= 7 && (b[6] == 50 || b[6] == 2):
			h := f.stored
			f.stored = 0
			return h, false
		}
	case "GS V", "ESC i", "ESC m":
		return 0, true
	}
	return 0, false
}

// Parser cuts an ESC/POS byte stream into commands. It is fed byte by byte
// as bytes arrive, because a printer sees its input that way: a command is
// whole only when its last parameter byte has come.
type Parser struct {
	pending []byte
	start   int // offset of pending[0]
	offset  int // bytes fed so far
}

// Pending is how many bytes of an unfinished command the parser holds.
func (p *Parser) Pending() int { return len(p.pending) }

// Offset is how many bytes the parser has been fed.
func (p *Parser) Offset() int { return p.offset }

// Discard drops the unfinished command and returns its start and length.
func (p *Parser) Discard() (start, n int) {
	start, n = p.start, len(p.pending)
	p.pending = p.pending[:0]
	p.start = p.offset
	return start, n
}

// Feed takes one byte and returns the command it completes, if any.
func (p *Parser) Feed(b byte) (Command, bool) {
	if len(p.pending) == 0 {
		p.start = p.offset
	}
	p.offset++
	p.pending = append(p.pending, b)
	n, name, known := commandLength(p.pending)
	if n < 0 || len(p.pending) < n {
		return Command{}, false
	}
	cmd := Command{Offset: p.start, Bytes: append([]byte(nil), p.pending...), Name: name, Known: known}
	p.pending = p.pending[:0]
	return cmd, true
}

// Parse cuts a whole byte slice into commands; a command cut off by the
// end of data is returned last with Known false.
func Parse(data []byte) []Command {
	var p Parser
	var out []Command
	for _, b := range data {
		if c, ok := p.Feed(b); ok {
			out = append(out, c)
		}
	}
	if p.Pending() > 0 {
		start, _ := p.Discard()
		out = append(out, Command{Offset: start, Bytes: append([]byte(nil), data[start:]...), Name: "truncated command"})
	}
	return out
}

// commandLength returns the length of the command that prefix starts, or
// -1 when more bytes are needed to tell. Unknown commands are given the
// shortest length that can hold them, so the bytes after are read afresh.
func commandLength(c []byte) (int, string, bool) {
	b0 := c[0]
	if b0 >= 0x20 {
		return 1, "text", true
	}
	switch b0 {
	case 0x00:
		return 1, "NUL", true
	case 0x0A:
		return 1, "LF", true
	case 0x0D:
		return 1, "CR", true
	case 0x09:
		return 1, "HT", true
	case 0x0C:
		return 1, "FF", true
	case 0x18:
		return 1, "CAN", true
	case 0x10:
		return dleLength(c)
	case 0x1B:
		return escLength(c)
	case 0x1C:
		return fsLength(c)
	case 0x1D:
		return gsLength(c)
	}
	return 1, fmt.Sprintf("control byte %#02x", b0), false
}

func need(c []byte, n int) bool { return len(c) >= n }

func dleLength(c []byte) (int, string, bool) {
	if !need(c, 2) {
		return -1, "", false
	}
	switch c[1] {
	case 0x04:
		return 3, "DLE EOT", true
	case 0x05:
		return 3, "DLE ENQ", true
	case 0x14:
		return 5, "DLE DC4", true
	}
	return 2, fmt.Sprintf("DLE %#02x", c[1]), false
}

func escLength(c []byte) (int, string, bool) {
	if !need(c, 2) {
		return -1, "", false
	}
	name := "ESC " + printable(c[1])
	switch c[1] {
	case '@', '2', 'i', 'm', '<':
		return 2, name, true
	case 'E', 'G', '-', '!', 'M', 'a', 't', 'R', '3', 'J', 'd', 'e', '{', 'V', ' ', 'r', 'U', '=', 'c', '%', 'K', 'T':
		return 3, name, true
	case '$', '\\':
		return 4, name, true
	case 'p':
		return 5, name, true
	case 'D':
		// Tab positions, ended by NUL.
		for i := 2; i < len(c); i++ {
			if c[i] == 0 {
				return i + 1, name, true
			}
		}
		return -1, "", false
	case '*':
		if !need(c, 5) {
			return -1, "", false
		}
		k := int(c[3]) + int(c[4])<<8
		if c[2] >= 32 {
			k *= 3
		}
		return 5 + k, name, true
	}
	return 2, name, false
}

func fsLength(c []byte) (int, string, bool) {
	if !need(c, 2) {
		return -1, "", false
	}
	name := "FS " + printable(c[1])
	switch c[1] {
	case '.', '&':
		return 2, name, true
	case '!', '-', 'C':
		return 3, name, true
	case 'p':
		return 4, name, true
	}
	return 2, name, false
}

func gsLength(c []byte) (int, string, bool) {
	if !need(c, 2) {
		return -1, "", false
	}
	name := "GS " + printable(c[1])
	switch c[1] {
	case '!', 'B', 'b', 'a', 'r', 'H', 'h', 'w', 'f', 'I', '/', 'T':
		return 3, name, true
	case 'L', 'W', 'P', '$', '\\':
		return 4, name, true
	case 'V':
		if !need(c, 3) {
			return -1, "", false
		}
		switch c[2] {
		case 0, 1, '0', '1':
			return 3, name, true
		case 65, 66, 97, 98, 103, 104:
			return 4, name, true
		}
		return 3, name, false
	case 'v':
		if !need(c, 3) {
			return -1, "", false
		}
		if c[2] != '0' {
			return 3, "GS v " + printable(c[2]), false
		}
		if !need(c, 8) {
			return -1, "", false
		}
		x := int(c[4]) + int(c[5])<<8
		y := int(c[6]) + int(c[7])<<8
		return 8 + x*y, "GS v 0", true
	case '(':
		if !need(c, 5) {
			return -1, "", false
		}
		return 5 + int(c[3]) + int(c[4])<<8, "GS ( " + printable(c[2]), true
	case '*':
		if !need(c, 4) {
			return -1, "", false
		}
		return 4 + int(c[2])*int(c[3])*8, name, true
	case 'k':
		if !need(c, 3) {
			return -1, "", false
		}
		if c[2] <= 6 {
			for i := 3; i < len(c); i++ {
				if c[i] == 0 {
					return i + 1, name, true
				}
			}
			return -1, "", false
		}
		if !need(c, 4) {
			return -1, "", false
		}
		return 4 + int(c[3]), name, true
	}
	return 2, name, false
}

func printable(b byte) string {
	if b > 0x20 && b < 0x7F {
		return string(rune(b))
	}
	return fmt.Sprintf("%#02x", b)
}

// Verify reads the job's bytes back with the parser and checks its spans
// against them: they run in order over the bytes, each ends where a
// command ends, and each moves the paper and cuts as its commands do. It
// holds the Builder, which records spans as it writes, and the parser,
// which the emulator prints by, to one meaning of the bytes.
func (j Job) Verify() error {
	var feeds Feeds
	cmds := Parse(j.Bytes)
	i, start := 0, 0
	for n, sp := range j.Spans {
		if sp.End <= start || sp.End > len(j.Bytes) {
			return fmt.Errorf("span %d ends at %d, after %d and within %d bytes it must", n, sp.End, start, len(j.Bytes))
		}
		dots, cut := 0, false
		for i < len(cmds) && cmds[i].Offset < sp.End {
			c := cmds[i]
			if end := c.Offset + len(c.Bytes); end > sp.End {
				return fmt.Errorf("span %d ends at %d, inside %s at %d-%d", n, sp.End, c.Name, c.Offset, end)
			}
			d, k := feeds.Motion(c)
			dots, cut = dots+d, cut || k
			i++
		}
		if dots != sp.Dots || cut != sp.Cut {
			return fmt.Errorf("span %d (bytes %d-%d) says %d dots, cut %v; its commands move %d dots, cut %v", n, start, sp.End, sp.Dots, sp.Cut, dots, cut)
		}
		start = sp.End
	}
	if start != len(j.Bytes) {
		return fmt.Errorf("spans cover %d of %d bytes", start, len(j.Bytes))
	}
	return nil
}
