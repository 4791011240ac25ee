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
	Plot     template.HTML
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
		plot, err := LatencyPlot(r.Rows, name)
		if err != nil {
			return nil, err
		}
		sv.Plot = plot
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
