package xmpptest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill Prosody if the test binary dies
// without running its cleanups (a panic, go test -timeout, SIGKILL), so no
// orphaned server keeps the ports.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
