package cluster

import (
	"strings"

	"github.com/redis/go-redis/v9"
)

// tagEscaper escapes one key component as gateway/store/redisstore does:
// afterwards it holds no ':' separator and no brace, and distinct inputs
// stay distinct ('%' is escaped too).
var tagEscaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

// prefixEscaper keeps braces out of the key prefix, where they would
// become the Cluster hash tag.
var prefixEscaper = strings.NewReplacer("{", "%7B", "}", "%7D")

// OwnerTag is the Redis Cluster hash tag of everything that belongs to
// owner (an XMPP bare JID): the store's records, journal, id map and
// outbox of that owner, and the owner's lease. gateway/store/redisstore
// builds its keys with it, so a fenced write of an owner's data and the
// check of the owner's lease run in one slot.
func OwnerTag(owner string) string { return "{" + tagEscaper.Replace(owner) + "}" }

// OwnerLeaseName is the name of owner's lease (in LeaseState and Grant).
func OwnerLeaseName(owner string) string { return "owner:" + owner }

// ownerLeasePrefix starts the key of every owner lease.
func ownerLeasePrefix(prefix string) string {
	return prefixEscaper.Replace(prefix) + "cluster:owner:"
}

// NewOwnerLease returns the lease that makes one worker the owner of
// every account linked by owner (a bare JID): its platform sessions and
// every write to its data. Its keys carry OwnerTag(owner), the hash tag
// of the owner's data in the store.
func NewOwnerLease(client redis.UniversalClient, prefix, owner string) *Lease {
	key := ownerLeasePrefix(prefix) + OwnerTag(owner)
	return &Lease{client: client, name: OwnerLeaseName(owner), key: key, seq: key + ":seq"}
}
