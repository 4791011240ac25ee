package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// reloadOnHangup reloads the configuration on each SIGHUP until ctx ends
// or the returned function is called: what can change while running is
// applied, and each other change is logged as needing a restart (see
// appMgmt.reload). A configuration that does not load changes nothing and
// is logged at ERROR with its problems.
func (a *app) reloadOnHangup(ctx context.Context) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-hup:
				a.log.Info("SIGHUP: reloading the configuration")
				if _, err := a.mgmt.reload(ctx); err != nil {
					a.log.Error("configuration reload failed", "err", err)
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
