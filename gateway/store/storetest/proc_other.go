//go:build !linux

package storetest

import "os/exec"

// dieWithParent does nothing outside Linux: there a server outlives a test
// binary that dies without running its cleanups.
func dieWithParent(*exec.Cmd) {}
