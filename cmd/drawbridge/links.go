package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// One process serves one XEP-0114 component per platform (config
// components; a single component without it): each component has its own
// domain, secret and link, and is its platform's frontend in the hub. The
// store, the hub, the API, metrics and admin commands are the process's,
// shared by all.

// appLink is one component of the process.
type appLink struct {
	config.Link
	platform  ids.PlatformID
	component *xmppcomponent.Component
	// shard is the component's virtual link in a sharded cluster
	// (cluster_sharded.go), and front the XEP-0114 connection while this
	// process is the front; connCfg configures a new one each term.
	shard   *shardLink
	router  *shardRouter
	front   atomic.Pointer[stream.Conn]
	connCfg stream.Config
}

// conn is l's XEP-0114 connection: the component's, or in a sharded
// cluster the front's while this process is the front; nil otherwise.
func (l *appLink) conn() *stream.Conn {
	if c := l.component.Conn(); c != nil {
		return c
	}
	return l.front.Load()
}

// linkRun serves l's link until ctx is done or the server refuses it for
// good; the error names the component.
func (a *app) linkRun(ctx context.Context, l *appLink) error {
	if err := l.component.Run(ctx); err != nil {
		if len(a.links) == 1 {
			return err
		}
		return fmt.Errorf("component %s: %w", l.JID, err)
	}
	return nil
}

// linkNames lists the components as domain (platform), for logs and the
// admin status.
func (a *app) linkNames() string {
	names := make([]string, len(a.links))
	for i, l := range a.links {
		names[i] = l.JID + " (" + string(l.platform) + ")"
	}
	return strings.Join(names, ", ")
}

// linkStatus sums the links' states: connected only when every link is
// (so /readyz is ready only then; Down names the others), the counters
// added up, and the problems joined, each named with its component.
func (a *app) linkStatus() gateway.LinkStatus {
	var st gateway.LinkStatus
	if len(a.links) == 0 {
		return st
	}
	st.Connected = true
	var problems []error
	for _, l := range a.links {
		conn := l.conn()
		if conn == nil {
			// A worker of a sharded cluster: the front holds the link.
			st.Connected = false
			if len(a.links) > 1 {
				st.Down = append(st.Down, l.JID)
			}
			continue
		}
		s := conn.Stats()
		if !conn.Connected() {
			st.Connected = false
			if len(a.links) > 1 {
				st.Down = append(st.Down, l.JID)
			}
		}
		st.Connects += s.Connects
		st.Disconnects += s.Disconnects
		st.StanzasIn += s.StanzasIn
		st.StanzasOut += s.StanzasOut
		st.Pings += s.Pings
		st.BytesIn += s.BytesIn
		st.BytesOut += s.BytesOut
		st.Queued += s.Queued
		st.InFlight += s.InFlight
		st.Dispatching += s.Dispatching
		if p := conn.Problem(); p != nil {
			if len(a.links) > 1 {
				p = fmt.Errorf("component %s: %w", l.JID, p)
			}
			problems = append(problems, p)
		}
	}
	st.Problem = errors.Join(problems...)
	return st
}

// stopAdapters stops the remote adapters made so far, which hold a child
// process or a connection from the start, when the app cannot be built
// (the others hold nothing before Start).
func stopAdapters(ctx context.Context, adapters []gateway.Adapter) {
	for _, ad := range adapters {
		if r, ok := ad.(*remote.Adapter); ok {
			_ = r.Stop(ctx)
		}
	}
}
