package config

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    ByteSize
		wantErr string // a part of the error; "" means none
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: " 42 ", want: 42},
		{in: "10B", want: 10},
		{in: "10 b", want: 10},
		{in: "512k", want: 512_000},
		{in: "512K", want: 512_000},
		{in: "512KB", want: 512_000},
		{in: "512KiB", want: 512 << 10},
		{in: "512kib", want: 512 << 10},
		{in: "2 MiB", want: 2 << 20},
		{in: "2MB", want: 2_000_000},
		{in: "100mb", want: 100_000_000},
		{in: "1.5MB", want: 1_500_000},
		{in: "1.1MB", want: 1_100_000}, // exact, not 1100000.0000000002
		{in: "1.5KiB", want: 1536},
		{in: "0.5k", want: 500},
		{in: "2GB", want: 2_000_000_000},
		{in: "1GiB", want: 1 << 30},
		{in: "3T", want: 3e12},
		{in: "1TiB", want: 1 << 40},
		{in: "8388607TiB", want: 8388607 << 40},
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "9223372036854775808", wantErr: "too large"},
		{in: "8388608TiB", wantErr: "too large"},
		{in: "1.5B", wantErr: "not a whole number of bytes"},
		{in: "1.0001KB", wantErr: "not a whole number of bytes"},
		{in: "-1", wantErr: "want a size"},
		{in: "-1MB", wantErr: "want a size"},
		{in: "1e6", wantErr: "want a size"},
		{in: "2 parsecs", wantErr: "unknown unit"},
		{in: "1 2MB", wantErr: "want a size"},
		{in: "MB", wantErr: "want a size"},
		{in: ".5MB", wantErr: "want a size"},
		{in: "1/2MB", wantErr: "want a size"},
		{in: "", wantErr: "want a size"},
		{in: "lots", wantErr: "want a size"},
	} {
		got, err := ParseByteSize(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseByteSize(%q) = %d, %v; want an error with %q", tc.in, got, err, tc.wantErr)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	for _, tc := range []struct {
		in   ByteSize
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1234, "1234B"},
		{1000, "1KB"},
		{1024, "1KiB"},
		{1 << 20, "1MiB"},
		{100_000_000, "100MB"},
		{1 << 40, "1TiB"},
		{2e12, "2TB"},
		{1_024_000, "1000KiB"}, // also 1024KB: the larger unit wins
	} {
		got := tc.in.String()
		if got != tc.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
		}
		if back, err := ParseByteSize(got); err != nil || back != tc.in {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d back", got, back, err, int64(tc.in))
		}
	}
}

// TestByteSizeYAML: YAML integers in any of YAML's notations are bytes;
// strings follow ParseByteSize.
func TestByteSizeYAML(t *testing.T) {
	for _, tc := range []struct {
		doc     string
		want    ByteSize
		wantErr bool
	}{
		{doc: "1048576", want: 1 << 20},
		{doc: "1_048_576", want: 1 << 20},
		{doc: "0x100000", want: 1 << 20},
		{doc: `"1048576"`, want: 1 << 20},
		{doc: "2 MiB", want: 2 << 20},
		{doc: "1.5MB", want: 1_500_000},
		{doc: "-1", wantErr: true},
		{doc: "1.5", wantErr: true},
		{doc: "true", wantErr: true},
		{doc: "[1]", wantErr: true},
		{doc: "99999999999999999999999", wantErr: true},
	} {
		var v struct {
			Size ByteSize `yaml:"size"`
		}
		err := yaml.Unmarshal([]byte("size: "+tc.doc), &v)
		if (err != nil) != tc.wantErr || (!tc.wantErr && v.Size != tc.want) {
			t.Errorf("size: %s → %d, %v; want %d (error: %v)", tc.doc, v.Size, err, tc.want, tc.wantErr)
		}
	}
	out, err := yaml.Marshal(struct {
		Size ByteSize `yaml:"size"`
	}{1 << 20})
	if err != nil || string(out) != "size: 1MiB\n" {
		t.Errorf("yaml.Marshal = %q, %v", out, err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "90s", want: 90 * time.Second},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "2h45m", want: 2*time.Hour + 45*time.Minute},
		{in: " 15m ", want: 15 * time.Minute},
		{in: "-1m", want: -time.Minute}, // the setting decides
		{in: "300ms", want: 300 * time.Millisecond},
		{in: "5", wantErr: true},
		{in: "soon", wantErr: true},
		{in: "", wantErr: true},
		{in: "1d", wantErr: true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && time.Duration(got) != tc.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, errDurationSyntax) {
			t.Errorf("ParseDuration(%q): %v does not explain the grammar", tc.in, err)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	for _, tc := range []struct {
		doc     string
		want    time.Duration
		wantErr bool
	}{
		{doc: "2m", want: 2 * time.Minute},
		{doc: "0", want: 0},
		{doc: `"168h"`, want: 168 * time.Hour},
		{doc: "60", wantErr: true},
		{doc: "{a: 1}", wantErr: true},
	} {
		var v struct {
			D Duration `yaml:"d"`
		}
		err := yaml.Unmarshal([]byte("d: "+tc.doc), &v)
		if (err != nil) != tc.wantErr || (!tc.wantErr && time.Duration(v.D) != tc.want) {
			t.Errorf("d: %s → %v, %v; want %v (error: %v)", tc.doc, v.D, err, tc.want, tc.wantErr)
		}
	}
	out, err := yaml.Marshal(struct {
		D Duration `yaml:"d"`
	}{Duration(2 * time.Minute)})
	if err != nil || string(out) != "d: 2m0s\n" {
		t.Errorf("yaml.Marshal = %q, %v", out, err)
	}
}
