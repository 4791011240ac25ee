package whatsapp_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/types/events"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
)

// tableRows reads the event table of doc.go: first column → the tests of
// the last column.
func tableRows(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line, ok := strings.CutPrefix(line, "//\t|")
		if !ok {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) < 3 {
			continue
		}
		name := strings.TrimSpace(cols[0])
		if !strings.HasPrefix(name, "events.") && !strings.HasPrefix(name, "waE2E.") {
			continue
		}
		if _, dup := rows[name]; dup {
			t.Errorf("doc.go: two rows for %s", name)
		}
		var tests []string
		for _, tn := range strings.Split(cols[len(cols)-2], ",") {
			if tn = strings.TrimSpace(tn); tn != "" {
				tests = append(tests, tn)
			}
		}
		rows[name] = tests
	}
	if len(rows) == 0 {
		t.Fatal("doc.go has no event table")
	}
	return rows
}

// parseFile parses one Go file of the adapter.
func parseFile(t *testing.T, path string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// funcDecl finds a function or method by name.
func funcDecl(t *testing.T, f *ast.File, name string) *ast.FuncDecl {
	t.Helper()
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name {
			return fd
		}
	}
	t.Fatalf("no func %s", name)
	return nil
}

// switchedEvents lists the events.X types of the session's event handler's
// type switch.
func switchedEvents(t *testing.T) []string {
	var out []string
	ast.Inspect(funcDecl(t, parseFile(t, "handlewa.go"), "handle"), func(n ast.Node) bool {
		cc, ok := n.(*ast.CaseClause)
		if !ok {
			return true
		}
		for _, e := range cc.List {
			if star, ok := e.(*ast.StarExpr); ok {
				if sel, ok := star.X.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "events" {
						out = append(out, "events."+sel.Sel.Name)
					}
				}
			}
		}
		return true
	})
	return out
}

var versionSuffix = regexp.MustCompile(`V[0-9]+$`)

// readMessageTypes lists the waE2E message types convert reads from a
// message (msg.Conversation, msg.GetXMessage()), versions folded.
func readMessageTypes(t *testing.T) []string {
	seen := map[string]bool{}
	for file, funcs := range map[string][]string{
		"convert/inbound.go": {"Message", "body", "poll", "unsupportedKind"},
		"convert/richmsg.go": {"BusinessText"},
	} {
		f := parseFile(t, file)
		for _, fn := range funcs {
			ast.Inspect(funcDecl(t, f, fn), func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "msg" {
					return true
				}
				name := strings.TrimPrefix(sel.Sel.Name, "Get")
				if name == "Conversation" || strings.HasSuffix(name, "Message") {
					seen["waE2E."+versionSuffix.ReplaceAllString(name, "")] = true
				}
				return true
			})
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// testNames lists the test functions of the adapter's packages.
func testNames(t *testing.T) map[string]bool {
	names := map[string]bool{}
	for _, glob := range []string{"*_test.go", "convert/*_test.go", "waid/*_test.go"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			for _, d := range parseFile(t, file).Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Test") {
					names[fd.Name.Name] = true
				}
			}
		}
	}
	return names
}

// TestEventTable keeps the event table of doc.go true: every event the
// session handles, every event the fake plays and every message type
// convert reads has a row, every row names existing tests, and the fake
// plays every event the session handles.
func TestEventTable(t *testing.T) {
	rows := tableRows(t)
	switched := switchedEvents(t)
	if len(switched) < 10 {
		t.Fatalf("found only %d cases in the event switch: %v", len(switched), switched)
	}
	var fake []string
	for _, ev := range wt.EventTypes() {
		fake = append(fake, strings.TrimPrefix(fmt.Sprintf("%T", ev), "*"))
	}
	messages := readMessageTypes(t)
	for what, list := range map[string][]string{
		"an event the session handles": switched,
		"an event the fake plays":      fake,
		"a message type convert reads": messages,
	} {
		for _, name := range list {
			if _, ok := rows[name]; !ok {
				t.Errorf("doc.go's event table has no row for %s, %s", name, what)
			}
		}
	}
	for _, name := range switched {
		if !slices.Contains(fake, name) {
			t.Errorf("the session handles %s, which whatsapptest.EventTypes does not list", name)
		}
	}
	known := testNames(t)
	for name, tests := range rows {
		if len(tests) == 0 {
			t.Errorf("doc.go: the row of %s names no test", name)
		}
		for _, tn := range tests {
			if !known[tn] {
				t.Errorf("doc.go: the row of %s names %s, which does not exist", name, tn)
			}
		}
	}
}

// TestQuietEvents: a business name names the contact and nothing else.
func TestQuietEvents(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.connected()
	if _, _, err := c.Device.Contacts.PutBusinessName(e.ctx, alice, "Alice's Bakery"); err != nil {
		t.Fatal(err)
	}
	c.Dispatch(&events.BusinessName{JID: alice, NewBusinessName: "Alice's Bakery"})
	if got, want := contactNames(e), []string{alicePhone + "=Alice's Bakery"}; !slices.Equal(got, want) {
		t.Errorf("contacts = %v, want %v", got, want)
	}
}
