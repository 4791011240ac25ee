//go:build !linux

package stream

import "net"

// quickAckReads returns nc: TCP_QUICKACK is Linux-only (see
// quickack_linux.go).
func quickAckReads(nc net.Conn) net.Conn { return nc }
