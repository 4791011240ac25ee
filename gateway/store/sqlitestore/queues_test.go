package sqlitestore

import (
	"strconv"
	"testing"
)

// TestQueueSurvivesReopen checks that queued items outlive the Store, and
// that sequences keep growing after the newest items were acknowledged.
func TestQueueSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	const owner = "alice@example.org"
	var seqs []string
	for _, item := range []string{"one", "two", "three"} {
		seq, err := s.Enqueue(ctx, owner, []byte(item))
		if err != nil {
			t.Fatalf("Enqueue %s: %v", item, err)
		}
		seqs = append(seqs, seq)
	}
	for _, seq := range []string{seqs[0], seqs[2]} {
		if err := s.Ack(ctx, owner, seq); err != nil {
			t.Fatalf("Ack %s: %v", seq, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	got, err := s.Pending(ctx, owner, 0)
	if err != nil || len(got) != 1 || string(got[0].Data) != "two" || got[0].Seq != seqs[1] {
		t.Fatalf("Pending after reopen = %+v, %v; want only \"two\" (seq %s)", got, err, seqs[1])
	}
	seq, err := s.Enqueue(ctx, owner, []byte("four"))
	if err != nil {
		t.Fatalf("Enqueue after reopen: %v", err)
	}
	last, _ := strconv.Atoi(seqs[2])
	if n, _ := strconv.Atoi(seq); n <= last {
		t.Errorf("sequence after reopen %s, want above the acknowledged %s", seq, seqs[2])
	}
}
