// Package gateway is the hub: linked accounts, routing between the XMPP side
// (a Frontend) and platform adapters, ID mapping, login flows, and the use
// cases shared by XMPP commands and the management API.
//
// Its durable path — the journal of platform events, the retry queue of
// messages for unavailable platforms, the message id map — is package
// gateway/delivery, which the hub builds, drives and depends on (never the
// other way round). It imports no XMPP library, no database driver and no
// platform library.
//
// # From the platform to the XMPP server's socket
//
// One platform message, followed from the adapter to the bytes on the
// component connection and back to the journal's acknowledgement. Five
// goroutines take part; each hand-off is named.
//
//  1. The adapter's goroutine (a whatsmeow event handler, a sandbox
//     session) builds an event.Message and calls Host.Emit (host.go).
//  2. Emit finds the owner of the account (a map in memory, the store on a
//     miss), marks the chat kind in Meta.Group when the session says the
//     chat is a group, maps the platform ids the event names to the stanza
//     ids the owner's client knows (delivery.IDMap; receipts and reactions
//     first wait for a send of the same chat still returning), and drops a
//     message the platform offers twice.
//  3. Messages, edits, retractions, reactions and delivery receipts are
//     journaled before anything else: delivery.Journal.Emit encodes the
//     event and hands it to the appender's goroutine, which writes
//     whatever queued meanwhile in one store call (group commit); Emit
//     waits for that write. Past this point the event survives a crash,
//     and Emit's nil lets the adapter acknowledge it to the platform.
//     Other events skip the journal.
//  4. Gateway.deliver — the only place the hub calls the frontend — adds
//     the chat's limits (Delivery.Caps) and calls Frontend.Deliver with a
//     Delivery whose Done will tell the journal that the server took the
//     event over.
//  5. The component (xmppcomponent.Component.Deliver) turns the event into
//     stanzas — one per part of a message, ids from ids.PartID — and sends
//     each through a deliverySender that counts them for Done; a group's
//     event goes to its room's occupants instead. stream.Conn.SendConfirmed
//     serializes the stanza and appends it to the link's outbound queue
//     (blocking while the queue is full), then Deliver returns: the
//     adapter's goroutine is free.
//  6. The link's writer goroutine (stream/writer.go) writes queued stanzas
//     in batches with a write deadline, keeps them as in flight, and follows
//     each batch with an XEP-0199 ping to the server.
//  7. The link's reader goroutine reads the ping's answer: the server has
//     processed everything written before it. The in-flight stanzas up to
//     the ping are confirmed; when the last stanza of the event is, Done
//     runs and marks the journal item confirmed.
//  8. The journal's worker goroutine removes confirmed items from the store
//     in batches. A link that drops first re-sends its in-flight stanzas
//     after reconnecting; a process that dies first replays the journal at
//     the next start (FrontendConnected).
//
// The other direction, XMPP to the platform, is a call chain without
// hand-offs but one: the link's reader dispatches each stanza to one of its
// lanes, chosen by conversation (a conversation stays in order); the lane's
// goroutine runs the component, which parses it and calls a use case
// (SendMessage, React, ...), and the hub checks limits and capabilities
// and calls the adapter's session; a message for an unavailable platform
// waits in delivery.RetryQueue.
package gateway
