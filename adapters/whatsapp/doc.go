// Package whatsapp is the WhatsApp platform of the gateway, on
// go.mau.fi/whatsmeow: the gateway becomes a linked device of the user's
// phone, like WhatsApp Web.
//
// The files split by concern: adapter.go (the gateway.Adapter: config,
// device store, sessions), login.go (QR and pairing-code linking as login
// step machines), session.go (one linked account: connection, lifecycle,
// capabilities), handlewa.go (whatsmeow events to neutral events),
// handlexmpp.go (what the hub sends to WhatsApp), groups.go (the
// gateway.GroupManager: groups as rooms), groupavatar.go (group pictures
// as room avatars), client.go (the narrow
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
// last seen ("phone_last_seen"). A new link of the same number logs the
// previous device out and deletes the number's other devices from the
// device store (relink.go), so that one device is the account's.
//
// The adapter keeps there too, per chat, the contacts' messages not
// marked read yet ("unread/<chat>", newest 256; markers.go), and the
// contacts met without a phone number ("lid_only/<LID>"; identity.go).
//
// # Identity and addressing
//
// The phone number is the identity whenever it is known: it is what people
// know, type and keep in address books, and it outlives WhatsApp's LIDs. A
// contact met as "lid-<LID>" whose number becomes known moves to the
// number: the old chat gets a notice naming the new address and the
// contact is announced under the number. How WhatsApp addresses people is
// not kept in memory only: in groups the group's addressing mode and
// whatsmeow's LID store (persistent) give the LID that replies, reactions,
// read markers and mentions must name, also after a restart
// (addressing.go).
//
// # Presence
//
// The account is "available" on WhatsApp only while its owner has an
// available XMPP resource (gateway.OwnerPresenceSetter) or types, and
// "unavailable" otherwise, once the push name is known (presence.go): a
// linked device that stays available silences the phone's notifications
// and shows the user online around the clock. mark_online keeps it
// available while connected.
//
// # The phone
//
// WhatsApp unlinks a device when the phone has not been online for 14
// days; the session warns after 12 days without a sign of the phone
// (session.go: the phone's own messages and receipts, media retry
// answers). There is no phone keep-alive ping to send: the pinned
// whatsmeow's keep-alive (keepalive.go, an IQ in the "w:p" namespace) goes
// to WhatsApp's server, not to the phone, and it has no call that asks
// the phone whether it is online. Its peer messages (SendPeerMessage with
// BuildHistorySyncRequest or BuildUnavailableMessageRequest) are requests
// for data with effects of their own, not a liveness check, so they are
// not used as one. A user who only uses XMPP and whose phone stays
// silent can therefore get the 12-day warning while the phone is online;
// the warning says to open WhatsApp on the phone, which also resets
// WhatsApp's own 14 days.
//
// # Large files and order
//
// whatsmeow hands events over one at a time and acknowledges a message
// only when the handler returns; the hub downloads a message's files
// inside Host.Emit. A message with files therefore goes through its chat's
// queue (chatqueue.go): it is written to the account's key-value space
// ("chat_queue", its protobuf and MessageInfo), acknowledged, and emitted
// by a goroutine of its chat, with the chat's next messages behind it; the
// other chats do not wait. The files stay lazy references (direct path
// and media key in the protobuf), downloaded when the hub opens them; an
// item leaves the queue once the hub took it, so one that a restart or a
// disconnection interrupted is emitted again on the next Connect. At most
// ChatQueueCap messages wait; beyond that a message is not acknowledged
// and WhatsApp offers it again later. The
// hub's journal (gateway/delivery) does not keep Attachment.Open, so
// journaling the message first and downloading at delivery would lose the
// file in a replay after a restart: the adapter keeps what it needs to
// download it again itself.
//
// # What each WhatsApp event becomes
//
// Every whatsmeow event the session handles (handlewa.go) and every
// message type it reads (package convert), what the XMPP user sees, and
// the test that shows it. TestEventTable checks that each event of the
// session's type switch and of the fake's list (whatsapptest.EventTypes)
// and each message type convert reads has a row, and that the tests named
// exist.
//
//	| WhatsApp                           | the XMPP user sees                                                            | proved by |
//	|------------------------------------|-------------------------------------------------------------------------------|-----------|
//	| events.Connected                   | the gateway's presence "Connected"; own presence sent                         | TestDisconnectAndReconnect, TestPresenceAfterRestart |
//	| events.Disconnected                | gateway presence away "reconnecting"                                          | TestDisconnectAndReconnect |
//	| events.KeepAliveTimeout            | gateway presence away: connecting, messages may be delayed                    | TestKeepAliveLossShowsConnecting |
//	| events.KeepAliveRestored           | gateway presence: connected again                                             | TestKeepAliveLossShowsConnecting |
//	| events.LoggedOut                   | gateway presence: logged out, with the reason (403 locked, 406 banned)        | TestLoggedOutRemotely, TestLockedAndBannedLogouts |
//	| events.StreamReplaced              | gateway presence away: another program took the device                        | TestPermanentDisconnects |
//	| events.ClientOutdated              | gateway presence away: the operator must update                               | TestPermanentDisconnects |
//	| events.TemporaryBan                | gateway presence: banned, until when; with no end, retried after 1, 2, 4 h... | TestPermanentDisconnects, TestBanWithoutEndBacksOff |
//	| events.ConnectFailure              | gateway presence away: refused, retrying; no retry when waiting cannot heal   | TestPermanentDisconnects, TestConnectFailures |
//	| events.PushNameSetting             | nothing; the account's presence can be sent now                               | TestPresenceWaitsForPushName |
//	| events.AppStateSyncComplete        | every stored contact named in the roster (contact list); own presence sent    | TestRosterNamedAfterSync, TestPresenceFollowsOwner |
//	| events.AppStateSyncError           | nothing; one full resync is asked for, then as above                          | TestAppStateSyncErrorResync |
//	| events.Message                     | a message, correction, retraction or reaction (message types below)           | TestInboundRouting, TestMessageGolden, TestLIDContactMovesToNumber |
//	| events.UndecryptableMessage        | a notice under the message's id, corrected into the message when it arrives   | TestUndecryptableCorrected, TestRetryStoreSurvivesRestart |
//	| events.Receipt                     | delivery and displayed markers; in a room, members' displayed markers; read on the phone clears unread | TestInboundRouting, TestUnreadSurvivesRestart, TestGroupReceiptsAndTyping |
//	| events.ChatPresence                | typing notifications (chat states), in rooms from the member's nick           | TestInboundRouting, TestGroupReceiptsAndTyping |
//	| events.Presence                    | the contact's presence, idle since last seen                                  | TestInboundRouting |
//	| events.PushName                    | the contact's name in the roster                                              | TestContactInfoGolden |
//	| events.Contact                     | the contact's address-book name in the roster                                 | TestContactInfoGolden |
//	| events.BusinessName                | the business's name in the roster                                             | TestQuietEvents |
//	| events.Picture                     | the contact's new avatar; a group's new or removed picture as the room's avatar | TestContactInfoGolden, TestGroupAvatar, TestGroupGolden |
//	| events.CallOffer                   | a notice: incoming call, answer on the phone                                  | TestInboundRouting |
//	| events.CallOfferNotice             | a notice: incoming (group, video) call                                        | TestInboundRouting |
//	| events.MediaRetry                  | the expired file, as a correction of its placeholder, or a notice             | TestExpiredMediaIsFetchedAgain |
//	| events.GroupInfo                   | room subject, membership, role and disappearing-timer changes                 | TestGroupInbound, TestDisappearingTimerInGroups |
//	| events.JoinedGroup                 | a new room                                                                    | TestGroupInbound |
//	| events.HistorySync                 | contacts named; last history_days of messages: 1:1 stamped, groups archived   | TestHistoryPushNames, TestHistorySync, TestHistoryOff |
//	| waE2E.Conversation                 | the text                                                                      | TestMessageGolden |
//	| waE2E.ExtendedTextMessage          | the text, reply (XEP-0461) and mentions (XEP-0372, LIDs as numbers)           | TestMessageGolden, TestMentionInLIDGroup |
//	| waE2E.ImageMessage                 | the photo (a link, XEP-0066) and its caption                                  | TestMessageGolden, TestInboundMediaDownload, TestLargeDownloadDoesNotStallAccount, TestChatQueueSurvivesRestart |
//	| waE2E.VideoMessage                 | the video and its caption                                                     | TestMessageGolden |
//	| waE2E.PtvMessage                   | the round video note                                                          | TestBusinessMessagesGolden |
//	| waE2E.AudioMessage                 | the audio file or voice message                                               | TestMessageGolden |
//	| waE2E.DocumentMessage              | the file and its caption                                                      | TestMessageGolden |
//	| waE2E.StickerMessage               | the sticker as an image                                                       | TestMessageGolden |
//	| waE2E.LocationMessage              | the place as text with a geo: URI                                             | TestMessageGolden |
//	| waE2E.LiveLocationMessage          | the position as text, "follow it on your phone"                               | TestMessageGolden |
//	| waE2E.ContactMessage               | "Contact: name" and the vCard as a file                                       | TestMessageGolden |
//	| waE2E.ContactsArrayMessage         | the names and one vCard file each                                             | TestMessageGolden |
//	| waE2E.PollCreationMessage          | the poll as text (all versions), "vote on your phone"                         | TestMessageGolden |
//	| waE2E.PollUpdateMessage            | the vote decrypted: a correction of the poll's message with the tally         | TestPollVotesShowTheTally |
//	| waE2E.ProtocolMessage              | retraction (REVOKE), correction (MESSAGE_EDIT), timer notice (EPHEMERAL_...)  | TestMessageGolden, TestDisappearingTimer |
//	| waE2E.ReactionMessage              | the sender's reactions (XEP-0444)                                             | TestMessageGolden |
//	| waE2E.AlbumMessage                 | nothing: its photos and videos follow as messages                             | TestBusinessMessagesGolden, TestOTPNoticeThroughClient |
//	| waE2E.PlaceholderMessage           | a notice that a one-time code was sent, to read on the phone                  | TestBusinessMessagesGolden, TestOTPNoticeThroughClient |
//	| waE2E.TemplateMessage              | the hydrated text and button labels (masked codes: the notice above)          | TestBusinessMessagesGolden |
//	| waE2E.HighlyStructuredMessage      | its hydrated template as above                                                | TestBusinessMessagesGolden |
//	| waE2E.ButtonsMessage               | the text and the button labels                                                | TestBusinessMessagesGolden, TestMessageGolden |
//	| waE2E.ListMessage                  | the text, the sections and their choices                                      | TestBusinessMessagesGolden |
//	| waE2E.InteractiveMessage           | header, body, footer and button labels                                        | TestBusinessMessagesGolden |
//	| waE2E.ButtonsResponseMessage       | the chosen button's label                                                     | TestBusinessMessagesGolden |
//	| waE2E.TemplateButtonReplyMessage   | the chosen button's label                                                     | TestBusinessMessagesGolden |
//	| waE2E.ListResponseMessage          | the chosen row                                                                | TestBusinessMessagesGolden |
//	| waE2E.InteractiveResponseMessage   | the answer's text                                                             | TestBusinessMessagesGolden |
//	| waE2E.SendPaymentMessage           | a notice: a payment, open WhatsApp on the phone                               | TestBusinessMessagesGolden |
//	| waE2E.RequestPaymentMessage        | as above                                                                      | TestBusinessMessagesGolden |
//	| waE2E.PaymentInviteMessage         | as above                                                                      | TestBusinessMessagesGolden |
//	| waE2E.InvoiceMessage               | as above                                                                      | TestBusinessMessagesGolden |
//	| waE2E.OrderMessage                 | a notice: an order or product, open WhatsApp on the phone                     | TestBusinessMessagesGolden |
//	| waE2E.ProductMessage               | as above                                                                      | TestBusinessMessagesGolden |
//	| waE2E.GroupInviteMessage           | a notice: a group invitation, open WhatsApp on the phone                      | TestBusinessMessagesGolden |
//	| waE2E.EventMessage                 | a notice: an event, open WhatsApp on the phone                                | TestBusinessMessagesGolden |
//	| waE2E.ScheduledCallCreationMessage | a notice: a scheduled call, open WhatsApp on the phone                        | TestBusinessMessagesGolden |
//	| waE2E.StickerPackMessage           | a notice: a sticker pack, open WhatsApp on the phone                          | TestBusinessMessagesGolden |
//
// Tests never reach WhatsApp: package whatsapptest fakes the Client and
// builds real whatsmeow events.
//
// Licence: whatsmeow is MPL-2.0 and its dependency go.mau.fi/libsignal is
// GPL-3.0, so binaries containing this package must be distributed under a
// GPLv3-compatible licence (Drawbridge is AGPL-3.0-or-later).
package whatsapp
