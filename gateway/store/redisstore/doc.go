// Package redisstore implements store.Store on Redis (standalone, Sentinel
// or Cluster) through a redis.UniversalClient.
//
// # Key layout
//
// Every key starts with the key prefix (Options.KeyPrefix, "drawbridge:" by
// default). Each identifier embedded in a key is escaped: '%', ':', '{' and
// '}' become "%25", "%3A", "%7B" and "%7D" (nothing else changes, so keys of
// ordinary JIDs stay readable). An escaped component therefore contains no
// separator and no brace, which makes keys unambiguous and keeps the Cluster
// hash tag — the first "{...}" of the key — exactly the one written below.
// The prefix itself may not contain braces; New escapes them the same way.
// With O the escaped owner, P a platform, A an account id, C a chat, X an
// XMPP stanza id and M a platform message id:
//
//	acct:{O}               hash  P → JSON account record of O on P
//	contacts:{O}:P         hash  user id → JSON contact
//	mid:{O}:C:x:X          string M, with a TTL (PX)
//	mid:{O}:C:p:M          string X, with a TTL (PX)
//	mids:{O}               zset  "C:x:X" / "C:p:M" suffixes of O's mid keys,
//	                             scored by expiry (unix ms); lets
//	                             DeleteAccount find them without SCAN
//	acctid:{P:A}           hash  reverse index: owner, token, claimed (ms)
//	kv:{P:A}               hash  adapter key → value
//	owners                 set   owners with at least one account record
//	queue:{O}              stream O's queue (store.Queues); the entry id is
//	                             the sequence, field "d" the item; deleted
//	                             when empty once O has no account record
//	queues                 set   owners that have queued an item, until
//	                             their queue is deleted
//	schema                 string the key layout's version (Migrate):
//	                             a newer one than SchemaVersion is refused
//
// Everything of one owner shares the hash tag {O}, so it lives in one
// Cluster slot and multi-key writes run in MULTI/EXEC (with WATCH for
// read-modify-write). The reverse index and KV of an account share {P:A}.
//
// # Linking an account id without a cross-slot transaction
//
// The reverse key acctid:{P:A} and the owner's record acct:{O} are in
// different slots (possibly on different nodes), so PutAccount orders its
// steps so that every prefix of them leaves a state that readers tolerate
// and the next call repairs:
//
//  1. SADD owners O, so a record never exists unlisted.
//  2. Read the old record. Records carry a revision number.
//  3. Claim acctid:{P:A} with a script: set it to (O, new random token,
//     server time) if it is free or already O's. If another owner holds it,
//     that owner's record is read: if it names A, ErrConflict. If it does not,
//     the claim is either in flight (a PutAccount between steps 3 and 4,
//     younger than claimGrace: ErrConflict too) or left by a crash (older:
//     it is taken over, compare-and-set on its token). If the old record
//     names another id, read the token of O's claim on it.
//  4. Compare-and-set the record: WATCH acct:{O}, check that the record is
//     still the one read in step 2, MULTI HSET EXEC. If it changed, the
//     whole call starts over.
//  5. Release the old id's reverse key, only if it still carries the token
//     read in step 3. A concurrent PutAccount of the same owner that links
//     the old id again and commits after step 4 must have read the record
//     after step 4, so it claimed the id after step 4 too: either before
//     step 5 (new token, nothing is released) or after it (it re-creates
//     the key).
//  6. SADD owners O again (see DeleteAccount).
//
// A crash after step 3 leaves a claim that no record confirms; AccountByID
// checks the owner's record and reports ErrNotFound, the owner's retry
// re-claims it, and anyone else takes it over after claimGrace. A crash
// after step 4 leaves the old id claimed by a record that no longer names
// it: the same takeover applies. Readers see either the old or the new
// record, never an account whose reverse entry and record disagree.
//
// DeleteAccount reads the record, deletes the KV hash of its linked id and
// reads its claim token, then compare-and-deletes — in one transaction
// watched on the record and the mids index — the record, the owner's
// contacts on that platform and all the owner's message id mappings (they
// are kept per owner and chat, not per platform), then releases the
// reverse key (same token rule), then removes the owner from owners if no
// record is left (and adds it back if a record appeared meanwhile). A crash
// before the transaction leaves the record for a retry to find; a crash
// after it leaves only a stale claim, taken over as above.
//
// Nothing runs inside a WATCH callback but commands on the watched slot: a
// WATCH holds a pooled connection, and nesting other commands in it can
// exhaust the pool under load.
//
// Message id mappings are two plain keys with PX expiry written, with their
// index entries, by one script call per owner (atomic, like a MULTI/EXEC on
// the owner's slot); a batch (PutMessageIDs) is one such call per owner, all
// in one pipeline. Expired index entries are pruned (with a minute's slack
// for clock skew) on each write and the index itself expires with its last
// entry. Each direction keeps the last pair written.
package redisstore
