// Package delivery is the hub's durable path: what makes a message reach
// the other side once, in order, across outages and restarts.
//
// It owns
//   - the inbound journal (Journal): platform events written to the
//     store's Queues before the XMPP side gets them, removed once the XMPP
//     server confirmed them, replayed after a restart or a reconnection;
//     its appender writes them with group commit, its codec is their
//     stored form;
//   - the intake (Intake): messages from XMPP, recorded in the same
//     Queues as the XMPP side reads them (in batches), removed once
//     handled, and handled again by the next process after a crash;
//   - the outbound retry queue (RetryQueue) of messages waiting for an
//     unavailable platform, and its durable copy, the outbox;
//   - the XMPP ↔ platform message id map (IDMap): a bounded cache in front
//     of the store's MessageIDs with a write-behind buffer, which also
//     recognises copies of messages already sent;
//   - the sends in flight per chat (InFlight) and the times of recent
//     sends (SentTimes).
//
// It depends only on the standard library and gateway/event, gateway/ids
// and gateway/store, and never calls the hub (package gateway): what it
// needs from outside is given to its constructors in a config struct —
// the store roles it uses, a logger, a clock, the XMPP side as a Confirmer
// (JournalConfig.Frontend), and for the retry queue the function that
// makes one attempt at a queued message (RetryConfig.Send), the one that
// tells its owner when the queue gives up (RetryConfig.Failed), and which
// errors mean "try again later" (RetryConfig.Unavailable). The hub builds
// these parts, starts and stops them, and re-exports the names its
// frontend and adapters use (gateway.ErrQueued, gateway.ErrNotDurable).
package delivery
