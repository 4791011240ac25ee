package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// LatencyPlot draws the latency distribution of each measured row of a
// section on one server setup (the server-th cell) as a box plot
// (milliseconds, one box per row) and returns it as inline SVG; empty when
// no row of the section has samples there.
func LatencyPlot(rows []Row, section string, server int) (template.HTML, error) {
	p := plot.New()
	var name string
	var names []string
	w := vg.Points(14)
	for _, r := range rows {
		if r.Section != section || server >= len(r.Cells) {
			continue
		}
		c := r.Cells[server]
		name = c.Server
		if len(c.Latencies) == 0 || c.Outcome == NotBridged {
			continue
		}
		vals := make(plotter.Values, len(c.Latencies))
		for i, d := range c.Latencies {
			vals[i] = ms(d)
		}
		b, err := plotter.NewBoxPlot(w, float64(len(names)), vals)
		if err != nil {
			return "", fmt.Errorf("report: plot %s: %w", r.ID, err)
		}
		p.Add(b)
		names = append(names, r.ID)
	}
	p.Title.Text = section + ", " + name
	p.Y.Label.Text = "latency (ms)"
	if len(names) == 0 {
		return "", nil
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = -1
	wt, err := p.WriterTo(vg.Points(float64(max(360, 46*len(names)))), vg.Points(300), "svg")
	if err != nil {
		return "", fmt.Errorf("report: plot: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("report: plot: %w", err)
	}
	svg := buf.String()
	// Inline SVG in HTML needs no XML declaration.
	if i := strings.Index(svg, "<svg"); i > 0 {
		svg = svg[i:]
	}
	return template.HTML(svg), nil //nolint:gosec // gonum's own SVG output, no user text but row ids
}
