// Package stream is the XEP-0114 transport of the XMPP side: one component
// connection to an XMPP server, kept up by a supervisor.
//
// It owns everything below the stanza: the stream reader with its per-stanza
// size limit and its lean decoder for chat messages (lean.go), the handshake, the writer with its outbound queue (which
// survives reconnects), the IQ tracker that matches replies to SendIQ calls,
// the recorder that hands what is read to an Intake (Config.Intake) in
// batches before the stanzas go on, the dispatch lanes that run the
// Handler (one conversation in order, different conversations in
// parallel), keepalive and confirmation pings (SendConfirmed), and the
// serialization of outbound stanzas.
//
// It knows nothing of the hub or of what stanzas mean: the translation
// between stanzas and hub events is package xmppcomponent, which hands a
// Handler to New and sends through the Conn.
//
// The API:
//
//	New(cfg, handler) *Conn      // nothing happens until Run
//	(*Conn).Run(ctx)             // connect, serve, reconnect until ctx is done
//	(*Conn).Send(ctx, p)         // queue a stanza
//	(*Conn).SendConfirmed(ctx, p, done) // queue, and call done once the server processed it
//	(*Conn).SendIQ(ctx, iq)      // send a get/set and wait for its result
//	(*Conn).Stats(), Connected(), WaitConnected(ctx), Connects()
package stream
