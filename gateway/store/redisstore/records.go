package redisstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// accountRecord is the JSON value of one field of an acct:{O} hash. The
// owner and the platform are in the key and the field name.
type accountRecord struct {
	ID         ids.AccountID `json:"id,omitempty"`
	State      event.State   `json:"state,omitempty"`
	Detail     string        `json:"detail,omitempty"`
	Registered time.Time     `json:"registered"`
	Updated    time.Time     `json:"updated"`
	// Rev counts the writes of the record, for compare-and-set.
	Rev uint64 `json:"rev"`
}

func decodeAccount(owner ids.Owner, platform ids.PlatformID, data string) (store.Account, accountRecord, error) {
	var r accountRecord
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return store.Account{}, r, fmt.Errorf("decoding the account record of %s on %s: %w", owner, platform, err)
	}
	return store.Account{
		Owner: owner, Platform: platform, ID: r.ID,
		State: r.State, StateDetail: r.Detail,
		Registered: r.Registered.UTC(), Updated: r.Updated.UTC(),
	}, r, nil
}

func encodeAccount(r accountRecord) string {
	b, err := json.Marshal(r)
	if err != nil {
		// Only strings and times: cannot fail.
		panic(fmt.Sprintf("redisstore: encoding an account record: %v", err))
	}
	return string(b)
}

// contactRecord is the JSON value of one field of a contacts hash. The
// platform is in the key, the user id is the field name.
type contactRecord struct {
	Name       string    `json:"name,omitempty"`
	Subscribed bool      `json:"subscribed,omitempty"`
	Updated    time.Time `json:"updated"`
}

func decodeContact(platform ids.PlatformID, user ids.UserID, data string) (store.Contact, error) {
	var r contactRecord
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return store.Contact{}, fmt.Errorf("decoding contact %s on %s: %w", user, platform, err)
	}
	return store.Contact{
		Platform: platform, User: user, Name: r.Name,
		Subscribed: r.Subscribed, Updated: r.Updated.UTC(),
	}, nil
}

func encodeContact(c store.Contact) string {
	b, err := json.Marshal(contactRecord{Name: c.Name, Subscribed: c.Subscribed, Updated: c.Updated.UTC()})
	if err != nil {
		panic(fmt.Sprintf("redisstore: encoding a contact: %v", err))
	}
	return string(b)
}
