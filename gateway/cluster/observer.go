package cluster

import "time"

// Observer is told what the Elector does, for metrics. Its methods are
// called from the Elector's goroutine and must be quick.
type Observer interface {
	// LeaseRenewed reports one renewal call of the lease, its duration
	// and its error (nil: renewed).
	LeaseRenewed(lease string, d time.Duration, err error)
	// LeaseAcquired reports that this process took the lease with token.
	LeaseAcquired(lease string, token int64)
}

// SetObserver sets the observer of e's renewals and acquisitions (nil:
// none). Call it before Campaign.
func (e *Elector) SetObserver(o Observer) { e.obs = o }

func (e *Elector) observeRenew(d time.Duration, err error) {
	if e.obs != nil {
		e.obs.LeaseRenewed(e.lease.Name(), d, err)
	}
}

func (e *Elector) observeAcquired(g Grant) {
	if e.obs != nil {
		e.obs.LeaseAcquired(e.lease.Name(), g.Token)
	}
}
