package cluster

import "hash/fnv"

// Preferred returns the worker that owner belongs to among workers, by
// rendezvous (highest random weight) hashing: each (worker, owner) pair
// gets a score from a hash fixed across processes and versions, and the
// highest score wins (ties: the smaller id). When a worker joins, it
// takes only the owners it now scores highest on; when one leaves, only
// its owners move, each to its own second choice, so they spread over
// the rest. "" when workers is empty.
func Preferred(owner string, workers []string) string {
	best, bestScore := "", uint64(0)
	for _, w := range workers {
		s := score(w, owner)
		if best == "" || s > bestScore || (s == bestScore && w < best) {
			best, bestScore = w, s
		}
	}
	return best
}

// score is FNV-1a of worker, a zero byte and owner, finished by the
// SplitMix64 mixer so that close inputs give unrelated scores.
func score(worker, owner string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(worker))
	h.Write([]byte{0})
	h.Write([]byte(owner))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
