package report

import (
	"time"
)

// Outcome is what a row's check found.
type Outcome string

// The outcomes of a row.
const (
	// Pass: every try did what the row says, checked on the far side.
	Pass Outcome = "pass"
	// Fail: at least one try did not; the row says why.
	Fail Outcome = "fail"
	// NotBridged: the gateway does not do this today; the row says what
	// happens instead. Nothing was tried.
	NotBridged Outcome = "not bridged"
	// NotMeasured: the deployment cannot drive this side (the row says
	// why and where it is tested instead). Nothing was tried.
	NotMeasured Outcome = "not measured"
)

// Direction is which way a row's traffic goes.
type Direction string

// The directions.
const (
	ToPlatform Direction = "XMPP → platform"
	ToXMPP     Direction = "platform → XMPP"
	Both       Direction = "both"
)

// Row is one function in one direction, with one cell per server setup.
type Row struct {
	// ID names the row in the transcript links and the golden skeleton.
	ID        string
	Section   string
	Function  string
	Direction Direction
	// XEPs the row's stanzas use.
	XEPs []string
	// Supported is whether the README lists the function as supported:
	// such a row must pass.
	Supported bool
	// Cells are the row's results, one per server setup, in the order of
	// Report.Servers.
	Cells []Cell
}

// Cell is one row tried on one server setup.
type Cell struct {
	// Server names the setup (Deployment.Name).
	Server  string
	Outcome Outcome
	// Note says what failed, or what happens instead.
	Note string
	// Latencies of the tries that passed.
	Latencies []time.Duration
	Tries     int
	// Bytes compared per try for media rows (0: not a media row), and
	// whether every copy equalled what was sent.
	Bytes      int
	BytesEqual bool
	// Transcript is the redacted stanza log of the row's tries.
	Transcript string
}

// P50 is the median latency of the cell's passing tries.
func (c Cell) P50() time.Duration { return Percentile(c.Latencies, 50) }

// P99 is the 99th percentile latency of the cell's passing tries.
func (c Cell) P99() time.Duration { return Percentile(c.Latencies, 99) }

// Combine puts the rows of several runs (one per server setup, each row
// with one cell) into one list with a cell per run, in runs' order.
func Combine(runs ...[]Row) []Row {
	var out []Row
	index := map[string]int{}
	for _, rows := range runs {
		for _, r := range rows {
			i, ok := index[r.ID]
			if !ok {
				index[r.ID] = len(out)
				out = append(out, Row{ID: r.ID, Section: r.Section, Function: r.Function, Direction: r.Direction, XEPs: r.XEPs, Supported: r.Supported})
				i = len(out) - 1
			}
			out[i].Cells = append(out[i].Cells, r.Cells...)
		}
	}
	return out
}

// Server is one server setup the suite ran on.
type Server struct {
	Name        string
	Description string
	// Setup is the transcript of the login and the link.
	Setup string
}

// StoreTable is one table (or key family) the gateway keeps.
type StoreTable struct {
	Name    string
	Columns []string
	// Rows in it after the run (-1: not counted).
	Rows int
	// Holds says in words what it is for and how long it is kept.
	Holds string
}

// Fact is one labelled value (versions, machine).
type Fact struct{ Key, Value string }

// Report is everything report.html shows.
type Report struct {
	Title     string
	Generated time.Time
	// Deployment says what ran: self-contained or given.
	Deployment string
	Tries      int
	// Servers are the server setups, one column each.
	Servers []Server
	Rows    []Row
	// Encryption explains where end-to-end encryption ends.
	Encryption []string
	Store      []StoreTable
	// StoreNotes: backend, path, retention settings from the config.
	StoreNotes []Fact
	Versions   []Fact
	Machine    []Fact
}

// Sections returns the row sections in order of first appearance.
func (r *Report) Sections() []string {
	var out []string
	seen := map[string]bool{}
	for _, row := range r.Rows {
		if !seen[row.Section] {
			seen[row.Section] = true
			out = append(out, row.Section)
		}
	}
	return out
}

// Failure is a supported row that did not pass on one server setup.
type Failure struct {
	Row, Server, Note string
}

// Failing returns the cells of rows the README lists as supported that did
// not pass, other than those a deployment cannot measure.
func (r *Report) Failing() []Failure {
	var out []Failure
	for _, row := range r.Rows {
		for _, c := range row.Cells {
			if row.Supported && c.Outcome != Pass && c.Outcome != NotMeasured {
				out = append(out, Failure{row.ID, c.Server, c.Note})
			}
		}
	}
	return out
}
