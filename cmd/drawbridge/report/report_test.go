package report

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"no samples", nil, 50, 0},
		{"one sample", ms(7), 99, 7 * time.Millisecond},
		{"median of an odd count, unsorted", ms(5, 1, 3), 50, 3 * time.Millisecond},
		{"median of an even count is the lower middle", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 20 is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 99, 20 * time.Millisecond},
		{"p99 of 200 is the second largest", ms(seq(200)...), 99, 198 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.in, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		secrets        []string
	}{
		{"SASL PLAIN", `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">AHVzZXIAcHc=</auth>`,
			`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">[redacted]</auth>`, nil},
		{"component handshake", `<handshake>0a1b2c</handshake>`, `<handshake>[redacted]</handshake>`, nil},
		{"pairing code", `<body>Code: ABCD-1234 on your phone</body>`, `<body>Code: [redacted] on your phone</body>`, nil},
		{"named secrets", `password hunter2 and secret s3cr3t`, `password [redacted] and secret [redacted]`, []string{"hunter2", "", "s3cr3t"}},
		{"ordinary stanza unchanged", `<message to="a@b"><body>hello</body></message>`, `<message to="a@b"><body>hello</body></message>`, []string{"zzz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in, tc.secrets...); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// sampleReport is a report on two server setups with one row of each
// outcome and fixed values.
func sampleReport() *Report {
	lat := []time.Duration{time.Millisecond, 2 * time.Millisecond, 9 * time.Millisecond}
	return &Report{
		Title: "T", Generated: time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC), Deployment: "D", Tries: 3,
		Servers: []Server{{Name: "Prosody", Description: "P", Setup: "-> link"}, {Name: "ejabberd", Description: "E"}},
		Rows: []Row{
			{ID: "text-to-platform", Section: SectionOneToOne, Function: "text", Direction: ToPlatform, XEPs: []string{"RFC 6120/6121"}, Supported: true,
				Cells: []Cell{{Server: "Prosody", Outcome: Pass, Latencies: lat, Tries: 3, Transcript: "-> <message id='secret-ish 42'/>"},
					{Server: "ejabberd", Outcome: Pass, Latencies: lat, Tries: 3, Transcript: "-> <message/>"}}},
			{ID: "image-to-xmpp", Section: SectionOneToOne, Function: "image", Direction: ToXMPP, XEPs: []string{"XEP-0066"}, Supported: true,
				Cells: []Cell{{Server: "Prosody", Outcome: Pass, Latencies: lat, Tries: 3, Bytes: 1000, BytesEqual: true, Transcript: "<- x"},
					{Server: "ejabberd", Outcome: Fail, Note: "try 2: took 20.1s", Latencies: lat[:1], Tries: 2, Bytes: 1234, Transcript: "<- x"}}},
			{ID: "call-to-xmpp", Section: SectionCalls, Function: "calls", Direction: ToXMPP, XEPs: []string{"none"},
				Cells: []Cell{{Server: "Prosody", Outcome: NotBridged, Note: "not bridged"}, {Server: "ejabberd", Outcome: NotBridged, Note: "not bridged"}}},
		},
		Encryption: []string{"E"},
		Store:      []StoreTable{{Name: "drawbridge_accounts", Columns: []string{"owner"}, Rows: 5, Holds: "H"}},
		StoreNotes: []Fact{{"store.backend", "sqlite"}},
		Versions:   []Fact{{"go", "go1.26.8"}},
		Machine:    []Fact{{"CPUs", "2"}},
	}
}

// TestCombineAndFailing: runs on several setups become one row per
// function with a cell per setup; a supported row that failed on one
// setup is reported with that setup, stated rows are not failures.
func TestCombineAndFailing(t *testing.T) {
	one := func(server string, o Outcome, supported bool, id string) Row {
		return Row{ID: id, Supported: supported, Cells: []Cell{{Server: server, Outcome: o}}}
	}
	rows := Combine(
		[]Row{one("A", Pass, true, "x"), one("A", NotMeasured, true, "y"), one("A", NotBridged, false, "z")},
		[]Row{one("B", Fail, true, "x"), one("B", NotMeasured, true, "y"), one("B", NotBridged, false, "z")},
	)
	if len(rows) != 3 || len(rows[0].Cells) != 2 || rows[0].Cells[1].Server != "B" {
		t.Fatalf("Combine: %+v", rows)
	}
	got := (&Report{Rows: rows}).Failing()
	if len(got) != 1 || got[0].Row != "x" || got[0].Server != "B" {
		t.Errorf("Failing() = %+v, want only x on B", got)
	}
}

// TestHTMLIsSelfContained: one file, no script, nothing fetched, the plots
// inline, every row with its anchor and measured rows with transcripts.
func TestHTMLIsSelfContained(t *testing.T) {
	page, err := HTML(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, banned := range []string{"<script", "<link", `src="http`, `href="http`, "url(http", "@import"} {
		if strings.Contains(s, banned) {
			t.Errorf("the page has %q: it must load nothing", banned)
		}
	}
	for _, want := range []string{`<svg`, `id="row-text-to-platform-prosody"`, `href="#transcript-text-to-platform-ejabberd"`, `id="transcript-image-to-xmpp-ejabberd"`,
		`id="row-call-to-xmpp-ejabberd"`, "1234 B, DIFFERENT", "not bridged", `id="transcript-setup-prosody"`, "<th>ejabberd</th>"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(s, `href="#transcript-call-to-xmpp-prosody"`) {
		t.Error("a row with nothing tried links to a transcript")
	}
}

// TestSkeletonLeavesOutWhatChanges: two reports that differ only in
// numbers, dates, versions, notes and transcripts have one skeleton; a
// changed outcome or row changes it.
func TestSkeletonLeavesOutWhatChanges(t *testing.T) {
	skel := func(r *Report) string {
		t.Helper()
		page, err := HTML(r)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Skeleton(page)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := sampleReport()
	b := sampleReport()
	b.Generated = b.Generated.Add(time.Hour)
	b.Tries = 20
	b.Rows[0].Cells[0].Latencies = []time.Duration{time.Second}
	b.Rows[0].Cells[0].Transcript = "other"
	b.Rows[1].Cells[1].Note = "try 1: other"
	b.Servers[0].Setup = "other"
	b.Store[0].Rows = 9
	b.Versions[0].Value = "go1.27"
	b.Machine[0].Value = "64"
	if sa, sb := skel(a), skel(b); sa != sb {
		t.Errorf("skeletons differ in what changes from run to run:\n%s\n---\n%s", sa, sb)
	}
	for _, want := range []string{"tr#row-text-to-platform-prosody: text | XMPP → platform | RFC 6120/6121 | yes | Prosody | pass |", "h2#store: What the gateway stores", "| fail"} {
		if !strings.Contains(skel(a), want) {
			t.Errorf("the skeleton lacks %q:\n%s", want, skel(a))
		}
	}
	c := sampleReport()
	c.Rows[0].Cells[1].Outcome = Fail
	if skel(a) == skel(c) {
		t.Error("a changed outcome does not change the skeleton")
	}
}

// TestEveryStoreTableIsDescribed: the store section describes each table
// of the sqlite schema, read from a store the real code created.
func TestEveryStoreTableIsDescribed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tables, err := SQLiteTables(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("only %d tables read: %+v", len(tables), tables)
	}
	for _, tb := range tables {
		if tb.Holds == "not described" {
			t.Errorf("table %s is not described in tableHolds", tb.Name)
		}
		if len(tb.Columns) == 0 || tb.Rows < 0 {
			t.Errorf("table %s: columns %v, rows %d (want columns and a count)", tb.Name, tb.Columns, tb.Rows)
		}
	}
}

// TestSuiteRows: ids are unique, every row has XEPs, and a row that is
// not tried says why.
func TestSuiteRows(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range suite() {
		if seen[c.id] {
			t.Errorf("row id %s twice", c.id)
		}
		seen[c.id] = true
		if len(c.xeps) == 0 {
			t.Errorf("row %s names no XEPs", c.id)
		}
		if c.try == nil && c.stated == "" {
			t.Errorf("row %s is neither tried nor stated", c.id)
		}
		if c.stated != "" && c.note == "" {
			t.Errorf("row %s is stated without a note", c.id)
		}
	}
}
