package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"join": strings.Join,
	"slug": slug,
	"msf":  func(d time.Duration) string { return fmt.Sprintf("%.2f", ms(d)) },
	"outcomeClass": func(o Outcome) string {
		switch o {
		case Pass:
			return "pass"
		case Fail:
			return "fail"
		}
		return "stated"
	},
}).Parse(pageTemplate))

type sectionView struct {
	ID, Name string
	Rows     []Row
	Plots    []template.HTML
}

// HTML renders r as one self-contained page: styles inline, plots as
// inline SVG, transcripts in the page, no external resource.
func HTML(r *Report) ([]byte, error) {
	var sections []sectionView
	for i, name := range r.Sections() {
		sv := sectionView{ID: fmt.Sprint(i + 1), Name: name}
		for _, row := range r.Rows {
			if row.Section == name {
				sv.Rows = append(sv.Rows, row)
			}
		}
		for i := range r.Servers {
			plot, err := LatencyPlot(r.Rows, name, i)
			if err != nil {
				return nil, err
			}
			if plot != "" {
				sv.Plots = append(sv.Plots, plot)
			}
		}
		sections = append(sections, sv)
	}
	var b bytes.Buffer
	err := page.Execute(&b, struct {
		R         *Report
		Generated string
		Sections  []sectionView
	}{r, r.Generated.UTC().Format(time.RFC3339), sections})
	if err != nil {
		return nil, fmt.Errorf("report: rendering: %w", err)
	}
	return b.Bytes(), nil
}

// slug makes a server name usable in an HTML id.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
