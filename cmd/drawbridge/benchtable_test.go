package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBenchTable runs the summary table maker of `make bench`
// (.ci/benchtable.go) on a saved benchmark output and compares its table
// with the golden one (-update rewrites it). The input's BenchmarkLoad and
// BenchmarkProsodyLoad lines carry issue 20's figures in go test's output
// format; the BenchmarkIdleAccounts line is a real run's.
func TestBenchTable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds .ci/benchtable.go with the go command")
	}
	dir := filepath.Join("testdata", "benchtable")
	in, err := os.Open(filepath.Join(dir, "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command("go", "run", filepath.Join("..", "..", ".ci", "benchtable.go"))
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("benchtable: %v\n%s", err, stderr.Bytes())
	}
	golden := filepath.Join(dir, "table.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("table differs from %s (go test -run TestBenchTable ./cmd/drawbridge -update)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}
