package gateway_test

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// BenchmarkIntakeAppend is the cost, per stanza, of recording inbound
// messages as the component reads them: one store write per stanza
// ("one") against the group commit the read loop does under load (a
// batch of 64, as many as wait while a write runs: "batch64"). One op is
// one 181-byte stanza recorded.
func BenchmarkIntakeAppend(b *testing.B) {
	stores := map[string]func(b *testing.B) store.Store{
		"sqlite": func(b *testing.B) store.Store { return openStore(b) },
		"redis": func(b *testing.B) store.Store {
			if _, err := exec.LookPath("redis-server"); err != nil {
				b.Skip("redis-server is not installed")
			}
			st := redisstore.New(redis.NewClient(&redis.Options{Addr: storetest.StartRedis(b)}), redisstore.Options{})
			b.Cleanup(func() { st.Close() })
			return st
		},
	}
	data := []byte(fmt.Sprintf("%-181s", "<message type='chat' id='B000' from='alice@example.test/r' to='+15550000001@gw.example.test'><body>B000</body></message>"))
	for _, name := range []string{"sqlite", "redis"} {
		for _, batch := range []int{1, 64} {
			mode := "one"
			if batch > 1 {
				mode = fmt.Sprintf("batch%d", batch)
			}
			b.Run(name+"/"+mode, func(b *testing.B) {
				in := delivery.NewIntake(delivery.IntakeConfig{Store: stores[name](b)})
				items := make([]delivery.IntakeItem, batch)
				for i := range items {
					items[i] = delivery.IntakeItem{Sender: ids.Owner(fmt.Sprintf("user%d@example.test", i%4)), Data: data}
				}
				b.ResetTimer()
				for done := 0; done < b.N; done += batch {
					if _, err := in.Append(b.Context(), items[:min(batch, b.N-done)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
