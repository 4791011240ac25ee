//go:build !linux

package testutil

import "os/exec"

// DieWithParent does nothing outside Linux, whose kernel alone offers a
// parent-death signal: there a server outlives a test binary that dies
// without running its cleanups.
func DieWithParent(*exec.Cmd) {}
