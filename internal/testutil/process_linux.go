package testutil

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill the process cmd starts with SIGKILL
// if the test binary dies without running its cleanups (a panic in
// another goroutine, go test -timeout, SIGKILL), so that no orphaned
// server keeps its ports. It keeps the rest of cmd.SysProcAttr.
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
