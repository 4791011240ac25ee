package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/cmd/drawbridge/report"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestReportCommand runs `drawbridge report` on its self-contained
// deployments (the gateway on the sandbox with a real Prosody, a real
// ejabberd, and an ejabberd user federating with Prosody) with a few tries
// per row: it succeeds only when no row the README lists as supported
// fails, writes a self-contained report.html whose skeleton (numbers,
// dates, versions, notes, transcripts left out) equals
// testdata/report.skeleton (`go test ./cmd/drawbridge/ -run TestReportCommand
// -update` rewrites it), and a report.pdf printed by Chromium.
func TestReportCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: starts Prosody, the gateway and Chromium")
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"report", "--out", out, "--tries", "3"}, &stdout, &stderr); err != nil {
		t.Fatalf("drawbridge report: %v\n%s%s", err, stdout.String(), tailLines(stderr.String(), 40))
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := os.ReadFile(filepath.Join(out, "report.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 10_000 {
		t.Errorf("report.pdf is not a PDF of the report (%d bytes, starts %q)", len(pdf), pdf[:min(8, len(pdf))])
	}
	for _, banned := range []string{"<script", "<link", `src="http`, `href="http`} {
		if bytes.Contains(page, []byte(banned)) {
			t.Errorf("report.html has %q: it must be one self-contained file", banned)
		}
	}
	// A column per server setup; measured rows have transcripts on each;
	// no secret is in one.
	for _, want := range []string{"<th>Prosody</th>", "<th>ejabberd</th>", "<th>ejabberd user via s2s</th>",
		`id="transcript-text-to-platform-prosody"`, `id="transcript-image-to-xmpp-ejabberd"`,
		`id="transcript-group-admin-to-xmpp-ejabberd-user-via-s2s"`, `id="transcript-setup-prosody"`, "<svg"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	if regexp.MustCompile(`<auth[^>]*>[^\[<]`).Match(page) {
		t.Error("a SASL payload is in a transcript")
	}
	if !bytes.Contains(page, []byte("Code: [redacted]")) || regexp.MustCompile(`Code: [^\[]`).Match(page) {
		t.Error("the pairing code of the link is not redacted in the setup transcript")
	}
	skel, err := report.Skeleton(page)
	if err != nil {
		t.Fatal(err)
	}
	xmpptest.CheckGolden(t, "testdata/report.skeleton", skel, *update)
}

// TestReportSupportedRowsMatchREADME: the rows the report must pass are
// features the README's status table lists as supported.
func TestReportSupportedRowsMatchREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, feature := range []string{"one-to-one text both ways", "files both ways", "groups as XEP-0045 rooms"} {
		re := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(feature) + `[^|]*\| supported`)
		if !re.Match(readme) {
			t.Errorf("README's status table does not list %q as supported, yet the report requires it to pass", feature)
		}
	}
	if !strings.Contains(string(readme), "### The evidence report") {
		t.Error("README has no \"The evidence report\" section")
	}
}

// TestReportFlagErrors: bad flags are refused with the flag named, before
// anything is started.
func TestReportFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tries", "0"}, "--tries must be between 1 and 10000"},
		{[]string{"--servers", "prosody,openfire"}, `--servers: unknown setup "openfire"`},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"report"}, tc.args...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("report %v: %v, want an error with %q", tc.args, err, tc.want)
			}
		})
	}
}
