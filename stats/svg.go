package stats

import (
	"fmt"
	"hash/fnv"
	"html"
	"math"
	"strings"
)

// Series is one coloured set of bars.
type Series struct {
	Name   string
	Color  string
	Values []float64
}

// Chart is a bar chart drawn by the server as SVG: no script, readable
// without colour (every series is also named in the legend and the page
// gives the same figures in a table).
type Chart struct {
	// Title is the chart's accessible name; Desc says what it shows.
	Title, Desc string
	Labels      []string
	Series      []Series
	// Stacked piles the series; otherwise they stand side by side.
	Stacked bool
	// Unit follows the axis figures ("min").
	Unit string
	// Counts are whole numbers: the axis shows no fractions.
	Counts bool
	// Line, when above zero, draws a dashed reference line (the target
	// wait) named LineLabel.
	Line      float64
	LineLabel string
}

const (
	chartW, chartH = 720, 300
	padL, padR     = 56, 16
	padT, padB     = 30, 64
)

// SVG draws the chart.
func (c Chart) SVG() string {
	var b strings.Builder
	esc := html.EscapeString
	openSVG(&b, "chart", "chart", c.Title, c.Desc, chartW, chartH, false)
	top := c.Line
	for i := range c.Labels {
		sum := 0.0
		for _, s := range c.Series {
			v := at(s.Values, i)
			if c.Stacked {
				sum += v
			} else {
				sum = math.Max(sum, v)
			}
		}
		top = math.Max(top, sum)
	}
	top = niceCeil(top)
	if c.Counts && top < 4 {
		top = 4
	}
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	y := func(v float64) float64 { return padT + plotH - v/top*plotH }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d6dae1" stroke-width="1"/>`, padL, chartW-padR, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="14" fill="#3d4451">%s</text>`, padL-6, y(v)+4, esc(fmtNum(v)))
	}
	if c.Unit != "" {
		fmt.Fprintf(&b, `<text x="4" y="16" font-size="14" fill="#3d4451">%s</text>`, esc(c.Unit))
	}
	n := max(len(c.Labels), 1)
	slot := plotW / float64(n)
	barW := math.Min(slot*0.7, 56)
	every := max(1, int(math.Ceil(float64(n)/14)))
	for i, label := range c.Labels {
		x0 := padL + slot*float64(i) + (slot-barW)/2
		base := 0.0
		for k, s := range c.Series {
			v := at(s.Values, i)
			if v <= 0 {
				continue
			}
			x, w := x0, barW
			lo := base
			if !c.Stacked {
				w = barW / float64(len(c.Series))
				x = x0 + w*float64(k)
				lo = 0
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
				x, y(lo+v), math.Max(w-1, 1), y(lo)-y(lo+v), s.Color, esc(label), esc(s.Name), esc(fmtNum(v)))
			if c.Stacked {
				base += v
			}
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="14" fill="#3d4451">%s</text>`, x0+barW/2, chartH-padB+16, esc(label))
		}
	}
	if c.Line > 0 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#8a1c1c" stroke-width="2" stroke-dasharray="6 4"/>`, padL, chartW-padR, y(c.Line), y(c.Line))
	}
	// Legend.
	lx := float64(padL)
	ly := chartH - 18
	items := append([]Series(nil), c.Series...)
	for _, s := range items {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/>`, lx, ly-10, s.Color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="14" fill="#1f2430">%s</text>`, lx+16, ly, esc(s.Name))
		lx += 16 + float64(8*len([]rune(s.Name))) + 18
	}
	if c.Line > 0 {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#8a1c1c" stroke-width="2" stroke-dasharray="6 4"/>`, lx, lx+14, ly-4, ly-4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="14" fill="#1f2430">%s</text>`, lx+18, ly, esc(c.LineLabel))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// openSVG starts a drawing named by its title and described by desc for
// screen readers; its ids come from the title, so two drawings of one
// page differ as their titles do. A drawing of natural size says so,
// so a few cells are not blown up to the page's width.
func openSVG(b *strings.Builder, class, idPrefix, title, desc string, w, h int, natural bool) {
	esc := html.EscapeString
	sum := fnv.New32a()
	sum.Write([]byte(title))
	id := fmt.Sprintf("%s-%08x", idPrefix, sum.Sum32())
	size := ""
	if natural {
		size = fmt.Sprintf(` width="%d" height="%d"`, w, h)
	}
	fmt.Fprintf(b, `<svg class="%s" viewBox="0 0 %d %d"%s role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`, class, w, h, size, id, id)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(desc))
}

func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, so axis figures
// are round.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
