// Package storetest is the conformance suite that every store.Store backend
// must pass, plus helpers that run a backend's server (a real redis-server)
// as a child process of a test.
//
// A backend's test calls Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		addr := storetest.StartRedis(t)
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Run runs the conformance suite against the backend that open creates.
//
// open is called once per subtest and must return a fresh, empty store that
// shares no records with the stores of other subtests (a new file, a new key
// prefix, ...). Subtests run in parallel, so open must be safe for concurrent
// use, and whatever the caller's test starts for them (a redis-server) must be
// stopped with t.Cleanup, not defer. The suite closes every store it opens and
// reports an error from Close as a test failure.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}

// suite lists the subtests of Run; each lives in the file of its role.
var suite = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"Ping", testPing},

	{"PutAccountCreateReplace", testPutAccountCreateReplace},
	{"AccountNotFound", testAccountNotFound},
	{"ReverseIndexFollowsID", testReverseIndexFollowsID},
	{"UnlinkedNotIndexed", testUnlinkedNotIndexed},
	{"PutAccountConflict", testPutAccountConflict},
	{"ListAccountsOrder", testListAccountsOrder},
	{"SetAccountState", testSetAccountState},
	{"DeleteAccountCascade", testDeleteAccountCascade},
	{"DeleteAccountIdempotent", testDeleteAccountIdempotent},

	{"ContactRoundTrip", testContactRoundTrip},
	{"ContactNotFound", testContactNotFound},
	{"ListContactsOrderAndScope", testListContactsOrderAndScope},

	{"MessageIDBothDirections", testMessageIDBothDirections},
	{"MessageIDNotFound", testMessageIDNotFound},
	{"MessageIDOverwrite", testMessageIDOverwrite},
	{"MessageIDExpiry", testMessageIDExpiry},
	{"PutMessageIDsBatch", testPutMessageIDsBatch},
	{"PutMessageIDsOverwrite", testPutMessageIDsOverwrite},
	{"PutMessageIDsExpiry", testPutMessageIDsExpiry},
	{"PutMessageIDsEmpty", testPutMessageIDsEmpty},
	{"PutMessageIDsLarge", testPutMessageIDsLarge},

	{"KVRoundTrip", testKVRoundTrip},
	{"KVScope", testKVScope},

	{"QueueOrder", testQueueOrder},
	{"QueueAckIdempotent", testQueueAckIdempotent},
	{"QueueIsolation", testQueueIsolation},
	{"QueueAckAll", testQueueAckAll},
	{"QueueEnqueueAll", testQueueEnqueueAll},
	{"QueueAckAllLarge", testQueueAckAllLarge},
	{"WriteBatch", testWriteBatch},

	{"OddCharactersRoundTrip", testOddCharactersRoundTrip},
	{"NoKeyCollisions", testNoKeyCollisions},

	{"ConcurrentPutDistinctOwners", testConcurrentPutDistinctOwners},
	{"ConcurrentPutSameID", testConcurrentPutSameID},
	{"ConcurrentPutSameOwner", testConcurrentPutSameOwner},
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// must fails the test at once if err is not nil.
func must(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		args = append(args, err)
		t.Fatalf(format+": %v", args...)
	}
}

// wantNotFound fails the test unless err wraps store.ErrNotFound.
func wantNotFound(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: got error %v, want store.ErrNotFound", what, err)
	}
}

// ctx is the context of a subtest.
func ctx(t *testing.T) context.Context { return t.Context() }

// recently reports whether tm lies within a minute of now: a backend that
// fills a timestamp in must use the current time.
func recently(tm time.Time) bool {
	d := time.Since(tm)
	return d > -time.Minute && d < time.Minute
}
