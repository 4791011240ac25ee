// Package whatsapp is the WhatsApp platform of the gateway, on
// go.mau.fi/whatsmeow: the gateway becomes a linked device of the user's
// phone, like WhatsApp Web.
//
// The files split by concern: adapter.go (the gateway.Adapter: config,
// device store, sessions), login.go (QR and pairing-code linking as login
// step machines), session.go (one linked account: connection, lifecycle,
// capabilities), handlewa.go (whatsmeow events to neutral events),
// handlexmpp.go (what the hub sends to WhatsApp), groups.go (the
// gateway.GroupManager: groups as rooms), client.go (the narrow
// Client seam, satisfied by *whatsmeow.Client), store.go (whatsmeow's SQL
// device store on sqlite or PostgreSQL), config.go; package convert holds
// the message conversions (golden-tested) and package waid the mapping of
// JIDs and message keys to the hub's ids.
//
// Identifiers: an account is its phone number in E.164 form; a contact is
// its phone number too, whether WhatsApp names them by phone-number JID or
// by LID (see package waid), or "lid-<n>" while the number is unknown;
// group members have the same ids. A group is "group-<id>" (its JID on
// g.us), and a group message's id names its author ("<member>:<id>").
// The adapter keeps, in the Host's key-value space of each account, the JID
// of its device in the device store ("device_jid") and when the phone was
// last seen ("phone_last_seen").
//
// Tests never reach WhatsApp: package whatsapptest fakes the Client and
// builds real whatsmeow events.
//
// Licence: whatsmeow is MPL-2.0 and its dependency go.mau.fi/libsignal is
// GPL-3.0, so binaries containing this package must be distributed under a
// GPLv3-compatible licence (Drawbridge is AGPL-3.0-or-later).
package whatsapp
