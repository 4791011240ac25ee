package redisstore

import (
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// escaper escapes one key component: afterwards it holds no ':' separator
// and no brace, and distinct inputs stay distinct ('%' is escaped too).
var escaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

// prefixEscaper keeps braces out of the key prefix, where they would become
// the Cluster hash tag.
var prefixEscaper = strings.NewReplacer("{", "%7B", "}", "%7D")

func esc[S ~string](s S) string { return escaper.Replace(string(s)) }

// keys builds the keys of the layout described in the package comment.
type keys struct{ prefix string }

func newKeys(prefix string) keys { return keys{prefix: prefixEscaper.Replace(prefix)} }

// ownerTag is the hash tag of everything that belongs to owner.
// It is cluster.OwnerTag, so that an owner's lease (cluster.NewOwnerLease)
// is in the same Redis Cluster slot as the owner's data it fences.
func ownerTag(owner ids.Owner) string { return cluster.OwnerTag(string(owner)) }

// accountTag is the hash tag of a platform account's reverse index and KV.
func accountTag(platform ids.PlatformID, id ids.AccountID) string {
	return "{" + esc(platform) + ":" + esc(id) + "}"
}

// owners is the set of owners that have at least one account record.
func (k keys) owners() string { return k.prefix + "owners" }

// accounts is the hash of owner's records, one field per platform.
func (k keys) accounts(owner ids.Owner) string { return k.prefix + "acct:" + ownerTag(owner) }

// contacts is the hash of owner's contacts on platform, keyed by user id.
func (k keys) contacts(owner ids.Owner, platform ids.PlatformID) string {
	return k.prefix + "contacts:" + ownerTag(owner) + ":" + esc(platform)
}

// midBase is the common start of owner's message id keys.
func (k keys) midBase(owner ids.Owner) string { return k.prefix + "mid:" + ownerTag(owner) + ":" }

// midByXMPPSuffix and midByPlatformSuffix complete midBase; the suffixes are
// also the members of the midIndex.
func midByXMPPSuffix(chat ids.ChatID, xmppID string) string { return esc(chat) + ":x:" + esc(xmppID) }

func midByPlatformSuffix(chat ids.ChatID, platformID ids.MessageID) string {
	return esc(chat) + ":p:" + esc(platformID)
}

// midIndex is the sorted set of owner's message id key suffixes, scored by
// expiry.
func (k keys) midIndex(owner ids.Owner) string { return k.prefix + "mids:" + ownerTag(owner) }

// accountID is the reverse index entry of a linked platform account.
func (k keys) accountID(platform ids.PlatformID, id ids.AccountID) string {
	return k.prefix + "acctid:" + accountTag(platform, id)
}

// kv is the hash of a platform account's adapter data.
func (k keys) kv(platform ids.PlatformID, id ids.AccountID) string {
	return k.prefix + "kv:" + accountTag(platform, id)
}

// queue is the stream of owner's queued items (store.Queues).
func (k keys) queue(owner ids.Owner) string { return k.prefix + "queue:" + ownerTag(owner) }

// queueOwners is the set of owners that have ever queued an item.
func (k keys) queueOwners() string { return k.prefix + "queues" }

// schema holds the key layout's version (Migrate).
func (k keys) schema() string { return k.prefix + "schema" }
