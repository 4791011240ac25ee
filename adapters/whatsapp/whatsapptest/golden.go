package whatsapptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// EventJSON renders a neutral event as stable, indented JSON for golden
// files: the event's type, then its fields; an attachment's Open is
// called and its content shown (up to 200 bytes).
func EventJSON(ctx context.Context, ev event.Event) ([]byte, error) {
	v, err := eventValue(ctx, ev)
	if err != nil {
		return nil, err
	}
	return marshal(map[string]any{"type": fmt.Sprintf("%T", ev), "event": v})
}

func eventValue(ctx context.Context, ev event.Event) (any, error) {
	rv := reflect.ValueOf(ev).Elem()
	out := map[string]any{}
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		fv := rv.Field(i)
		if f.Anonymous && f.Type == reflect.TypeOf(event.Meta{}) {
			m := fv.Interface().(event.Meta)
			out["Meta"] = map[string]any{
				"Account": m.Account, "Chat": m.Chat, "Sender": m.Sender, "FromMe": m.FromMe,
				"Time": timeString(m.Time), "ID": m.ID,
			}
			continue
		}
		if atts, ok := fv.Interface().([]event.Attachment); ok {
			if len(atts) == 0 {
				continue
			}
			list := []any{}
			for _, a := range atts {
				am := map[string]any{"Name": a.Name, "MIMEType": a.MIMEType, "Size": a.Size, "Kind": a.Kind, "URL": a.URL}
				if a.Open != nil {
					r, err := a.Open(ctx)
					if err != nil {
						am["Open"] = "error: " + err.Error()
					} else {
						data, err := io.ReadAll(io.LimitReader(r, 200))
						r.Close()
						if err != nil {
							return nil, err
						}
						am["Open"] = string(data)
					}
				}
				list = append(list, am)
			}
			out[f.Name] = list
			continue
		}
		if fv.IsZero() {
			continue
		}
		switch x := fv.Interface().(type) {
		case time.Time:
			out[f.Name] = timeString(x)
		case event.ReceiptKind:
			out[f.Name] = x.String()
		default:
			out[f.Name] = x
		}
	}
	return out, nil
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ProtoJSON renders a protobuf message as stable, indented JSON for golden
// files. Fields that hold the current time (sender timestamps) show as
// "<now>".
func ProtoJSON(m *waE2E.Message) ([]byte, error) {
	raw, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	scrubTimes(v)
	return marshal(v)
}

var timeFields = map[string]bool{"senderTimestampMS": true, "timestampMS": true, "mediaKeyTimestamp": true}

func scrubTimes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if timeFields[k] {
				x[k] = "<now>"
				continue
			}
			scrubTimes(val)
		}
	case []any:
		for _, e := range x {
			scrubTimes(e)
		}
	}
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Golden compares got with the file at path, or writes it when update is
// set.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// UnusedGoldens fails t if dir holds .golden files that no test named in
// used; it keeps golden directories free of stale files.
func UnusedGoldens(t testing.TB, dir string, used map[string]bool) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".golden") && !used[e.Name()] {
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("golden files without a test in %s: %v", dir, stale)
	}
}
