package emulator

import (
	"fmt"

	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

// Unsupported says why a printer of profile p cannot carry out c, or ""
// when it can, by the capability data's word: a picture command the model
// lacks (GS v 0, ESC *, 24-dot ESC *, GS ( L), a QR code without a QR
// encoder, a cut without a cutter, a code page it does not have. The
// emulator skips such a command with a warning, as the real model would
// at best ignore it and at worst print its bytes as letters.
func Unsupported(p profiles.Profile, c escpos.Command) string {
	b := c.Bytes
	switch c.Name {
	case "GS v 0":
		if !p.RasterImages {
			return fmt.Sprintf("GS v 0: %s prints no raster images", p.Name)
		}
	case "ESC *":
		switch {
		case !p.ColumnImages:
			return fmt.Sprintf("ESC *: %s prints no column images", p.Name)
		case len(b) > 2 && b[2] >= 32 && !p.HighDensity:
			return fmt.Sprintf("ESC * %d: %s prints only 8-dot column images", b[2], p.Name)
		}
	case "GS ( L", "GS 8 L":
		if !p.Graphics {
			return fmt.Sprintf("%s: %s prints no graphics", c.Name, p.Name)
		}
	case "GS ( k":
		if len(b) > 5 && b[5] == 49 && !p.NativeQR {
			return fmt.Sprintf("GS ( k: %s has no QR encoder of its own", p.Name)
		}
	case "GS V", "ESC i", "ESC m":
		if !p.PartialCut && !p.FullCut {
			return fmt.Sprintf("%s: %s has no cutter", c.Name, p.Name)
		}
	case "ESC t":
		if len(b) > 2 {
			if _, ok := p.PageName(int(b[2])); !ok {
				return fmt.Sprintf("ESC t %d: %s has no code page %d", b[2], p.Name, b[2])
			}
		}
	}
	return ""
}

func cutCommand(name string) bool { return name == "GS V" || name == "ESC i" || name == "ESC m" }
