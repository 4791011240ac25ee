// Package telegram is the Telegram adapter, on gotd/td (a pure-Go MTProto
// client). Each linked account is one gotd client with its own auth key,
// kept in the account's KV space through the host (sealed at rest when
// store.encryption_key is set) together with its update state (pts), the
// access hashes of the users it has seen and which chat each message id
// belongs to.
//
// Configuration (platforms.telegram): api_id and api_hash of the
// operator's application from https://my.telegram.org, both required; the
// hash is a secret (never logged, REDACTED in config output).
//
// Login flows are the contract's step machines. "phone": phone number →
// the login code Telegram sends to the user's app → the two-step
// verification password when the account has one (SRP, done by gotd's
// auth package); a wrong code or password keeps the step, so the user may
// try again. "qr": a tg://login QR code that Telegram on a signed-in phone
// accepts (Wait gives a new code when one expires), then the password if
// the account has one.
//
// Addressing: a Telegram user is its numeric id (123456789@component);
// users without a phone number are reached the same way. The XEP-0100
// prompt takes an @username (ResolveUser looks it up) or a known id.
//
// One-to-one chats, both ways: text; Telegram's entities become XEP-0393
// styling in the body (see package convert), and bodies from XMPP are sent
// as plain text; replies; edits (48 hours, Telegram's window in private
// chats); deletions for both sides; reactions (one per person, Telegram's
// limit without Premium; a contact's full set arrives, removal included);
// read markers ("read up to", which is
// what an XEP-0333 displayed marker means already); typing. Contacts from
// the account's address book are announced with their names on connect,
// with their presence (online, or offline with the last-seen time when
// Telegram shares it) and their profile photo's id as avatar hash;
// presence changes follow, and GetAvatar downloads the photo.
//
// Basic groups are rooms (#g<id>@component): the owner is invited on
// connect, members carry their roles (creator: owner; admins), the group's
// description is the subject, messages go both ways, and members added,
// removed or leaving on Telegram are membership changes, and a rename
// updates the room.
//
// Supergroups and broadcast channels are rooms too (#c<id>@component),
// through the same group contract: members with roles, the description
// as subject, text and replies both ways, members joining or leaving. A
// broadcast channel is read-only for its subscribers
// (gateway.GroupInfo.ReadOnly: the XMPP side makes them visitors and
// refuses their messages with forbidden; its admins write); its posts
// come from the channel itself, a member (owner) of the room named after
// the channel. Groups of more than 200 members, and channels whose
// subscribers only admins may list, show the admins and the account
// only, with the group's size (GroupInfo.MemberCount, disco's
// muc#roominfo_occupants); messages of members not listed arrive all the
// same, from a nick that is their user id.
//
// In every kind of group, edits, deletions (for everyone;
// channels.deleteMessages in supergroups and channels), reactions (one
// per person) and files from XMPP are sent as in one-to-one chats, and
// Capabilities say so; read markers and typing stay one-to-one only.
// Reactions other members make on Telegram arrive as each member's full
// set, removal included (groupreactions.go): Telegram's
// updateMessageReactions lists everyone's without naming who changed
// theirs, so the session keeps the last list of each message in the
// account's KV ("react:" and the message's record key) and emits only
// what changed. When Telegram names only some of the reactors (large
// groups) a member missing from the list is not taken as a removal;
// custom-emoji and paid reactions have no text and are left out.
//
// Group and channel photos are the rooms' avatars
// (gateway.GroupInfo.AvatarHash is the photo's id, GetGroupAvatar
// downloads it); a photo set or removed on Telegram (its service
// message) is a ChatInfo with the new hash, which the XMPP side announces
// (XEP-0486).
//
// Managing groups from XMPP (manage.go): the description (topic), adding
// (inviting to a channel), removing (banning from a channel), promoting
// and demoting members, leaving, and creating basic groups. Telegram
// refusals (not an admin, privacy settings) are gateway.ErrForbidden.
// What Telegram answers with service messages (members added, removed,
// leaving a basic group) reaches the hub once, through the update
// handling; what it tells no client as news (a new description, a
// promotion, leaving a channel) the session announces after Telegram
// accepted it.
//
// Forum topics: each topic is a room of its own (#c<id>t<topic>@component,
// named "Forum / Topic"), the General topic the forum's room. Decided
// over XEP-0201 threads in one room because XMPP clients show threads in
// a room poorly or not at all, and a reply from such a client would land
// in General; a room per topic needs nothing new on the XMPP side. A
// topic opened while connected is announced as a ChatInfo of its new
// room (which brings the owner an invitation, as a group joined does); a
// topic closed is read-only (only admins write; GroupInfo.ReadOnly), and
// closing or reopening it is a ChatInfo with ReadOnly set.
//
// Updates: gotd delivers pushes concurrently; the session applies them in
// pts order, one at a time, and on a pts gap, after every reconnection and
// when connecting calls updates.getDifference from the stored pts, so
// what happened while the gateway was away is delivered, once. Sequenced
// containers without pts (updates with seq, such as status changes) are
// applied in seq order; a seq gap fetches the difference from the stored
// state date. Each channel has its own pts: a gap there, a channel Telegram
// says is too far behind, and every catch-up fetch
// updates.getChannelDifference for it. A message sent through the gateway
// is not echoed back.
//
// Flood waits: a FLOOD_WAIT answer to a send is told to the user (a
// rate-limited error naming the wait), and further sends are refused
// until it has passed, without asking Telegram again.
//
// Media from Telegram: photos (largest size) and documents (files,
// videos, voice notes, audio, stickers) become attachments, downloaded
// over MTProto (upload.getFile) as the hub reads them. Files from XMPP
// are uploaded in parts and sent as a photo (JPEG, PNG) or a named
// document (voice notes, audio and videos marked as such), the body as
// the first one's caption (or a text after them when it is longer than
// Telegram's 1024 characters).
//
// Locations and contact cards from Telegram arrive as text: a geo: URI
// (with a venue's name and address), the card's name and number.
//
// Not done yet (each says so where it is met, nothing is silently lost):
// polls and other media from Telegram (they arrive as a note asking to
// open Telegram); locations and contact cards from XMPP; description
// changes made on Telegram as they happen (Telegram sends no message for
// them; the next read of the group has them); read markers and typing
// inside groups and channels; other
// read-only changes than a forum topic closed or reopened (a group's
// default rights changed on Telegram are seen at the next read of the
// group). Secret chats are out of
// scope: they are end-to-end encrypted between two devices, and a
// gateway cannot take part; the adapter says so in
// gateway.Info.NotBridged, which the XMPP side puts in the gateway's
// disco identity.
//
// Out of process: `drawbridge adapter telegram --listen ADDR` serves the
// adapter over the adapter protocol (adapters/remote), as for the
// sandbox; the conformance suite runs against it that way.
//
// Tests run the adapter against gotd's in-process MTProto server (tgtest)
// with a service of ours behind it (package telegramtest): real MTProto,
// fake Telegram.
package telegram
