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
// wall through the Platform's methods (SendAs, SendFileAs, ReplyAs,
// EditAs, RetractAs, ReactAs, SendReceipt, Typing, SetPresence, SetAvatar,
// ConfirmPairing, ...) and read what reached the platform with Messages,
// Received, MessageByID, Receipts and ChatStates.
//
// An Adapter (New) serves one Platform to one hub. Accounts link with the
// "pairing-code" login flow, modelled on WhatsApp's "link with phone number":
// the user types a phone number, the gateway shows an 8-character code, and
// the simulated phone confirms it (by itself with the auto_confirm option,
// or through Platform.ConfirmPairing).
//
// # Rich messaging and its rules
//
// The platform enforces its own rules, whatever the hub checked before,
// for the linked accounts' sessions and the Platform API alike:
//
//   - Edits: only the author may edit a message (else gateway.ErrForbidden),
//     within edit_window (default 15m) of when the platform took it,
//     measured with Options.Clock (else gateway.ErrNotSupported, "edit
//     window of 15m0s has passed"). The record keeps every revision.
//   - Retractions: the same, with retract_window (default 48h). The
//     message stays in the record, marked Retracted; retracting it again
//     does nothing. A retracted message can no longer be edited, reacted
//     to or answered (gateway.ErrTargetNotFound).
//   - Reactions: full-set semantics, as in XEP-0444. Each user may have
//     one reaction on a message (MaxReactionsPerUser): a set of one
//     replaces the earlier reaction, the empty set removes it, and a set of
//     two different emojis (a second reaction while one is set) is refused
//     with gateway.ErrNotSupported. Anyone in the chat may react to any of
//     its messages.
//   - Replies: a message may answer one of the same chat; the platform
//     adds the original's author and a quote (the first 100 characters of
//     its body, or its file name).
//   - Files: at most max_file_size bytes each (default 1 MiB; larger:
//     gateway.ErrNotSupported, "file of N bytes exceeds the 1 MiB limit"),
//     of a type in MediaTypes (image/*, video/*, audio/*, application/pdf,
//     text/plain; else gateway.ErrNotSupported). The platform reads each
//     attachment through its Open function and keeps the bytes; recipients
//     get attachments whose Open returns them.
//   - A message, edit, retraction or reaction that names a message not in
//     the chat wraps gateway.ErrTargetNotFound.
//
// # Groups
//
// The platform has groups (groups.go), served through gateway.GroupManager:
// Lounge ("Sandbox Lounge", owned by Alice, with Bob and the Echo Bot) and
// the channel News ("Sandbox News", owned by Alice, with Bob and the Quiet
// Bot; read-only: only admins post, else gateway.ErrForbidden) are seeded;
// CreateChannel makes more channels. Ids of groups start with "group-".
// Only admins change the topic or the name, add, remove, promote and
// demote members (else gateway.ErrForbidden); the owner cannot be removed
// or demoted; members
// write, correct their own messages, react and leave. Member accounts get
// every group message (their other devices a FromMe copy), a
// MembershipChange for joins, departures, kicks and role changes, and a
// ChatInfo (IsGroup) for new groups, topics and names. The Echo Bot, as a
// member, answers "!echo <text>" with "<text>". Tests act through
// CreateGroup, AddMember, Kick, Leave, Promote, Demote, SetTopic,
// RenameGroup, SendGroupAs and SendGroupFileAs, and read Group and
// GroupMessages.
//
// Edits, retractions and reactions get ids of their own (Meta.ID) from the
// same counter as messages. Between two linked accounts everything is
// delivered both ways: the other account gets the event (FromMe false,
// Sender the author), and the author's other devices a copy with FromMe.
//
// Every seeded user has an avatar: a small PNG drawn from a hash of the
// user id, so it is the same on every run, with AvatarHash the SHA-1 of
// its bytes in hex. ContactInfo events carry the hash, Session.GetAvatar
// returns the picture, and Platform.SetAvatar changes it and sends the
// accounts that have the user as a contact a new ContactInfo. Presence
// carries LastSeen (the platform's clock when the user went unavailable)
// while a user is unavailable; bots are always available.
//
// # Seeded users
//
//   - EchoBot (+15550000001, "Echo Bot") answers every message and mirrors
//     edits, retractions and reactions; see below.
//   - QuietBot (+15550000002, "Quiet Bot") emits a Delivered then a
//     Displayed receipt for every message and never replies; edits,
//     retractions and reactions are only recorded.
//   - Alice (+15550001111, "Alice Sandbox") and Bob (+15550002222, "Bob
//     Sandbox") are scripted humans: they do nothing unless the Platform API
//     tells them to.
//
// # The Echo Bot
//
// For a message M from a linked account the Echo Bot emits, in this order
// and in the chat with the bot: a Delivered receipt for M, a Composing
// chat state, its echo E of M (after the echo_delay option), then a
// Displayed receipt for M; with the echo_reply_only option it emits E
// alone (one event per message, for benchmarks). E's body is "echo: <body of M>", or empty if M
// had no text, and E carries the same files as M (same bytes, name, MIME
// type and kind). The bot remembers which echo answers which message (E's
// id is taken when M arrives), and mirrors what the account does next, in
// order with everything else the bot does in that chat:
//
//   - when the account edits M, the bot edits E to "echo: <new body>" (an
//     event.Edit from the bot with Target E);
//   - when the account retracts M, the bot retracts E (an event.Retract
//     with Target E);
//   - when the account sets its reactions on E, the bot sets the same
//     reactions on M, or removes its own when the account removed theirs
//     (an event.Reaction from the bot with Target M).
//
// Nothing else gets an answer: reactions to M or to bot messages that are
// not echoes are only recorded, and so are receipts and chat states.
//
// # Determinism
//
// Message ids are "SB" (or Options.IDPrefix) followed by a per-Platform
// counter ("SB1", "SB2", ...); edits, retractions and reactions take
// theirs from the same counter.
// A bot's ids (its reply, and its edit, retraction or reaction mirroring
// the account's) are taken when the bot receives what it answers, so the
// sequence of ids does not depend on goroutine scheduling. Event times come
// from Options.Clock. Pairing codes are derived from Options.Seed, the phone
// number and a per-number attempt counter. Every account's events are
// emitted by one goroutine per connected session, which runs while there
// is something to emit, in the order the platform produced them.
package sandbox
