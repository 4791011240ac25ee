package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

// clock is a manual clock for the tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiter(t *testing.T) {
	type step struct {
		advance time.Duration
		key     string
		want    bool
	}
	tests := []struct {
		name           string
		perKey, global Rate
		steps          []step
	}{
		{"unlimited", Rate{}, Rate{}, []step{{0, "a", true}, {0, "a", true}, {0, "a", true}}},
		{"burst then refusal", Rate{PerMinute: 60, Burst: 2}, Rate{}, []step{
			{0, "a", true}, {0, "a", true}, {0, "a", false},
			{0, "b", true}, // another key has its own bucket
		}},
		{"refill at the rate", Rate{PerMinute: 60, Burst: 1}, Rate{}, []step{
			{0, "a", true}, {500 * time.Millisecond, "a", false},
			{500 * time.Millisecond, "a", true}, {0, "a", false},
		}},
		{"refill caps at burst", Rate{PerMinute: 60, Burst: 2}, Rate{}, []step{
			{time.Hour, "a", true}, {0, "a", true}, {0, "a", false},
		}},
		{"burst below one means one", Rate{PerMinute: 60}, Rate{}, []step{
			{0, "a", true}, {0, "a", false},
		}},
		{"global bucket shared", Rate{}, Rate{PerMinute: 60, Burst: 2}, []step{
			{0, "a", true}, {0, "b", true}, {0, "c", false}, {time.Second, "c", true},
		}},
		{"global refusal costs the key nothing", Rate{PerMinute: 1, Burst: 1}, Rate{PerMinute: 60, Burst: 1}, []step{
			{0, "a", true}, {0, "b", false},
			{time.Second, "b", true}, // charged, b would wait a minute
		}},
		{"large burst", Rate{PerMinute: 60, Burst: 1 << 40}, Rate{}, []step{
			{0, "a", true}, {0, "a", true},
		}},
		{"clock going backwards", Rate{PerMinute: 60, Burst: 1}, Rate{}, []step{
			{0, "a", true}, {-time.Hour, "a", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1_000_000, 0)}
			l := New(tt.perKey, tt.global, c.now)
			for i, s := range tt.steps {
				c.advance(s.advance)
				if got := l.Allow(s.key); got != s.want {
					t.Fatalf("step %d: Allow(%q) = %v, want %v", i, s.key, got, s.want)
				}
			}
		})
	}
}

func TestTakeVerdicts(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	l := New(Rate{PerMinute: 60, Burst: 1}, Rate{PerMinute: 60, Burst: 2}, c.now)
	for i, want := range []struct {
		key  string
		want Verdict
	}{{"a", Allowed}, {"a", KeyLimited}, {"b", Allowed}, {"c", GlobalLimited}} {
		if got := l.Take(want.key); got != want.want {
			t.Fatalf("step %d: Take(%q) = %v, want %v", i, want.key, got, want.want)
		}
	}
}

func TestNilLimiterAllows(t *testing.T) {
	var l *Limiter
	if !l.Allow("a") {
		t.Fatal("nil limiter refused")
	}
}

// TestSweepBoundsKeys: once maxKeys buckets exist, full ones are forgotten.
func TestSweepBoundsKeys(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	l := New(Rate{PerMinute: 60, Burst: 1}, Rate{}, c.now)
	l.maxKeys = 10
	for i := range 10 {
		l.Allow(fmt.Sprint("k", i))
	}
	c.advance(time.Second) // every bucket has refilled
	l.Allow("new")
	if n := l.Len(); n != 1 {
		t.Fatalf("Len after sweep = %d, want 1", n)
	}
	// Buckets still refilling are kept: the limit cannot be dodged.
	for i := range 10 {
		l.Allow(fmt.Sprint("x", i))
	}
	l.Allow("y")
	if n := l.Len(); n != 12 {
		t.Fatalf("Len = %d, want 12 (nothing full to forget)", n)
	}
	if l.Allow("x0") {
		t.Fatal("x0 allowed again within its refill period")
	}
}
