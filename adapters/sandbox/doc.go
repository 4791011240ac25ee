// Package sandbox is a complete simulated walled garden that lives in the
// gateway's process. It looks to the hub exactly like a real closed platform
// (it only speaks the adapter contract of package gateway) and is
// deterministic, so the demo, the end-to-end tests and the benchmarks can
// run against it and assert on what happened.
//
// The simulated service is a Platform: a directory of users addressed by
// phone numbers in E.164 form, two bots, two scripted humans, the accounts
// that XMPP users linked, and a server-side store that keeps messages for
// devices that are offline. Tests and the demo play "the other side" of the
// wall through the Platform's methods (SendAs, SetPresence, Typing,
// ConfirmPairing, ...) and read what reached the platform with Messages,
// Received, Receipts and ChatStates.
//
// An Adapter (New) serves one Platform to one hub. Accounts link with the
// "pairing-code" login flow, modelled on WhatsApp's "link with phone number":
// the user types a phone number, the gateway shows an 8-character code, and
// the simulated phone confirms it (by itself with the auto_confirm option,
// or through Platform.ConfirmPairing).
//
// # Seeded users
//
//   - EchoBot (+15550000001, "Echo Bot") answers every text message. For a
//     message M it emits, in this order and in the chat with the bot: a
//     Delivered receipt for M, a Composing chat state, the reply
//     "echo: <body of M>" (after the echo_delay option), then a Displayed
//     receipt for M. A message without text (attachments only) gets the
//     two receipts and no reply.
//   - QuietBot (+15550000002, "Quiet Bot") emits a Delivered then a
//     Displayed receipt for every message and never replies.
//   - Alice (+15550001111, "Alice Sandbox") and Bob (+15550002222, "Bob
//     Sandbox") are scripted humans: they do nothing unless the Platform API
//     tells them to.
//
// # Determinism
//
// Message ids are "SB" followed by a per-Platform counter ("SB1", "SB2",
// ...). A bot's reply id is taken when the bot receives the message, so the
// sequence of ids does not depend on goroutine scheduling. Event times come
// from Options.Clock. Pairing codes are derived from Options.Seed, the phone
// number and a per-number attempt counter. Every account's events are
// emitted by one goroutine per connected session, in the order the platform
// produced them.
package sandbox
