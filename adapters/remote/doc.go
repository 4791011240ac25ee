// Package remote runs platform adapters out of the gateway's process, over
// the gRPC protocol of proto/drawbridge/adapter/v1.
//
// Two sides live here:
//
//   - The host side, [Adapter]: a gateway.Adapter that speaks the protocol
//     to an adapter running elsewhere, either a child process it launches
//     with github.com/hashicorp/go-plugin ([Launch]) or a service it dials
//     ([Dial]; off loopback over TLS, with a client certificate or a
//     token: mtls.go). Events, account states, the
//     adapter's key-value space and its log come back through the host.
//   - The adapter side, the SDK: [NewServer] serves any gateway.Adapter
//     over the protocol, so an adapter author implements the same Go
//     interfaces as for an in-process adapter; [ServeChild] runs it as a
//     go-plugin child, [Serve] on a TCP address ([WithServerTLS] for
//     TLS, mutual with client CAs).
//
// Optional session features travel as data (proto Feature values), never
// as a Go type assertion across the wire; sentinel errors travel as gRPC
// statuses with an ErrorDetail naming the sentinel (errors.go).
package remote
