// Package delivery is the hub's durable path: what makes a message reach
// the other side once, in order, across outages and restarts. It owns the
// sends in flight per chat (InFlight) and the times of recent sends
// (SentTimes).
//
// It depends only on the standard library and gateway/event, gateway/ids
// and gateway/store, never on the hub (package gateway), which builds its
// parts and gives them what they need.
package delivery
