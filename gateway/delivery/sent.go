package delivery

import (
	"container/list"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// sentCacheSize bounds how many sent messages the hub remembers the time
// of, for checking edit and retraction windows before asking the platform.
const sentCacheSize = 50_000

// SentTimes remembers when the owner sent recent messages (an LRU). What
// it has forgotten (older messages, a restart) the hub leaves for the
// platform to judge: every adapter enforces its own windows too. The zero
// value is ready to use.
type SentTimes struct {
	mu    sync.Mutex
	items map[sentKey]*list.Element
	order *list.List
}

type sentKey struct {
	owner ids.Owner
	chat  ids.ChatID
	id    ids.MessageID
}

type sentEntry struct {
	key sentKey
	at  time.Time
}

// Put records that owner's message id was sent to chat at at.
func (s *SentTimes) Put(owner ids.Owner, chat ids.ChatID, id ids.MessageID, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items == nil {
		s.items = make(map[sentKey]*list.Element)
		s.order = list.New()
	}
	k := sentKey{owner, chat, id}
	if e, ok := s.items[k]; ok {
		e.Value.(*sentEntry).at = at
		s.order.MoveToFront(e)
		return
	}
	s.items[k] = s.order.PushFront(&sentEntry{key: k, at: at})
	for s.order.Len() > sentCacheSize {
		last := s.order.Back()
		delete(s.items, last.Value.(*sentEntry).key)
		s.order.Remove(last)
	}
}

// Get returns when the message was sent, if the hub remembers it.
func (s *SentTimes) Get(owner ids.Owner, chat ids.ChatID, id ids.MessageID) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[sentKey{owner, chat, id}]
	if !ok {
		return time.Time{}, false
	}
	return e.Value.(*sentEntry).at, true
}
