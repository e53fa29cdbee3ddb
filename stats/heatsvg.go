package stats

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// HeatMap is a grid of figures drawn by the server as SVG, each cell
// shaded by its value on one hue (light: few, dark: many) and carrying
// its figure as text, so it reads without colour too.
type HeatMap struct {
	// Title is the map's accessible name; Desc says what it shows.
	Title, Desc string
	Rows, Cols  []string
	// Values[row][col]; a negative value is a cell without data, left
	// blank.
	Values [][]float64
	// Decimals is how many decimals a cell's figure shows.
	Decimals int
}

const (
	heatCellW, heatCellH = 44, 34
	heatPadL, heatPadT   = 56, 28
)

// The ramp runs from a pale to a deep blue; each figure is written in
// the ink (dark or white) that contrasts more with its cell.
var heatLow, heatHigh = [3]float64{0xee, 0xf4, 0xfb}, [3]float64{0x0b, 0x3d, 0x91}

// SVG draws the heat map.
func (m HeatMap) SVG() string {
	var b strings.Builder
	esc := html.EscapeString
	openSVG(&b, "chart heat", "heat", m.Title, m.Desc, heatPadL+heatCellW*max(len(m.Cols), 1)+8, heatPadT+heatCellH*max(len(m.Rows), 1)+8, true)
	top := 0.0
	for _, row := range m.Values {
		for _, v := range row {
			top = math.Max(top, v)
		}
	}
	for c, label := range m.Cols {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="13" fill="#3d4451">%s</text>`,
			heatPadL+heatCellW*c+heatCellW/2, heatPadT-10, esc(label))
	}
	for r, label := range m.Rows {
		y := heatPadT + heatCellH*r
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="13" fill="#3d4451">%s</text>`, heatPadL-8, y+heatCellH/2+5, esc(label))
		for c := range m.Cols {
			v := -1.0
			if r < len(m.Values) && c < len(m.Values[r]) {
				v = m.Values[r][c]
			}
			x := heatPadL + heatCellW*c
			if v < 0 {
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#ffffff" stroke="#d6dae1"/>`, x, y, heatCellW-2, heatCellH-2)
				continue
			}
			share := 0.0
			if top > 0 {
				share = v / top
			}
			fill := ramp(share)
			ink := inkOn(fill)
			figure := esc(fmt.Sprintf("%.*f", m.Decimals, v))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s, %s: %s</title></rect>`,
				x, y, heatCellW-2, heatCellH-2, fill, esc(label), esc(m.Cols[c]), figure)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="13" fill="%s">%s</text>`,
				x+heatCellW/2-1, y+heatCellH/2+4, ink, figure)
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// ramp is the colour share (0-1) of the way from heatLow to heatHigh.
func ramp(share float64) string {
	share = math.Min(math.Max(share, 0), 1)
	var c [3]int
	for i := range c {
		c[i] = int(math.Round(heatLow[i] + (heatHigh[i]-heatLow[i])*share))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// inkOn is the text colour, black or white, of the higher contrast on the
// #rrggbb fill: one of them always keeps WCAG AA's 4.5:1.
func inkOn(fill string) string {
	if contrast(fill, "#ffffff") > contrast(fill, "#000000") {
		return "#ffffff"
	}
	return "#000000"
}

// contrast is WCAG's contrast ratio of two #rrggbb colours (1 to 21).
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// luminance is WCAG's relative luminance of a #rrggbb colour.
func luminance(hex string) float64 {
	var r, g, b int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return 0
	}
	lin := func(c int) float64 {
		v := float64(c) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
