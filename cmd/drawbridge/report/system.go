package report

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Versions lists the gateway's version, the Go toolchain, the modules
// that speak XMPP and the platforms, and the external programs of the
// deployment (first line of their version output; "not installed" when
// missing).
func Versions(ctx context.Context, gateway string) []Fact {
	facts := []Fact{{"drawbridge", gateway}, {"go", runtime.Version()}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "gosrc.io/xmpp", "go.mau.fi/whatsmeow", "modernc.org/sqlite", "github.com/redis/go-redis/v9", "gonum.org/v1/plot":
				facts = append(facts, Fact{d.Path, d.Version})
			}
		}
	}
	for _, pkg := range []string{"prosody", "ejabberd", "erlang-base", "chromium"} {
		facts = append(facts, Fact{pkg, packageVersion(ctx, pkg)})
	}
	return facts
}

// packageVersion is the installed version of a Debian package, from
// dpkg-query, or "not installed"; on a system without dpkg, the program's
// own version line where it has one.
func packageVersion(ctx context.Context, pkg string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if dpkg, err := exec.LookPath("dpkg-query"); err == nil {
		out, err := exec.CommandContext(ctx, dpkg, "-W", "-f", "${Version}", pkg).Output()
		if err != nil || len(out) == 0 {
			return "not installed"
		}
		return "Debian package " + strings.TrimSpace(string(out))
	}
	switch pkg {
	case "prosody":
		return programVersion(ctx, pkg, "prosodyctl", "about")
	case "chromium":
		return programVersion(ctx, pkg, "chromium", "--version")
	}
	return "unknown (no dpkg-query)"
}

// programVersion runs a program's version command and keeps the line that
// names it.
func programVersion(ctx context.Context, name, prog string, args ...string) string {
	path, err := exec.LookPath(prog)
	if err != nil {
		return "not installed"
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil && len(out) == 0 {
		return "unknown (" + err.Error() + ")"
	}
	for line := range strings.Lines(string(out)) {
		l := strings.TrimSpace(line)
		if strings.Contains(strings.ToLower(l), name) && strings.ContainsAny(l, "0123456789") {
			return l
		}
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

// Machine describes where the report ran.
func Machine() []Fact {
	host, _ := os.Hostname()
	facts := []Fact{
		{"os/arch", runtime.GOOS + "/" + runtime.GOARCH},
		{"CPUs", itoa(runtime.NumCPU())},
		{"host", host},
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	// The same keys on every machine (the report's skeleton has them).
	return append(facts, Fact{"kernel", kernel}, Fact{"distribution", orUnknown(osRelease())}, Fact{"CPU model", orUnknown(cpuModel())})
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func osRelease() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
