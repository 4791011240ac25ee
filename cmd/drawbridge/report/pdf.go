package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ChromiumPaths are where PrintPDF looks for a browser, in order.
var ChromiumPaths = []string{"chromium", "chromium-browser", "google-chrome"}

// PrintPDF prints the HTML file at htmlPath to pdfPath with headless
// Chromium. The page loads nothing from the network: it has no external
// resource, and background networking is off.
func PrintPDF(ctx context.Context, htmlPath, pdfPath string) error {
	var bin string
	for _, name := range ChromiumPaths {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		return errors.New("report: no Chromium to print the PDF with (apt-get install chromium)")
	}
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	absPDF, err := filepath.Abs(pdfPath)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	profile, err := os.MkdirTemp("", "drawbridge-report-chromium-")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--disable-extensions", "--user-data-dir="+profile, "--no-pdf-header-footer",
		"--print-to-pdf="+absPDF, "file://"+abs)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("report: chromium --print-to-pdf: %w\n%s", err, out.String())
	}
	head := make([]byte, 5)
	f, err := os.Open(absPDF)
	if err != nil {
		return fmt.Errorf("report: chromium wrote no PDF: %w\n%s", err, out.String())
	}
	defer f.Close()
	if _, err := f.Read(head); err != nil || string(head[:4]) != "%PDF" {
		return fmt.Errorf("report: %s is not a PDF", absPDF)
	}
	return nil
}
