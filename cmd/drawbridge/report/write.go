package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Files are the paths Write produced.
type Files struct{ HTML, PDF string }

// Write renders r into dir as report.html and prints report.pdf from it
// (skipped when pdf is false).
func Write(ctx context.Context, r *Report, dir string, pdf bool) (Files, error) {
	page, err := HTML(r)
	if err != nil {
		return Files{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("report: %w", err)
	}
	f := Files{HTML: filepath.Join(dir, "report.html")}
	if err := os.WriteFile(f.HTML, page, 0o644); err != nil {
		return Files{}, fmt.Errorf("report: %w", err)
	}
	if !pdf {
		return f, nil
	}
	f.PDF = filepath.Join(dir, "report.pdf")
	if err := PrintPDF(ctx, f.HTML, f.PDF); err != nil {
		return f, err
	}
	return f, nil
}
