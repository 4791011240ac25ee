package delivery

import "github.com/drawbridge-im/drawbridge/gateway/ids"

// QueueOwner is the owner whose data a queue of the Queues role holds:
// the owner itself for the delivery journal, the owner behind the prefix
// of an outbox or an intake queue. A sharded cluster fences every queue
// of an owner by that owner's lease (redisstore.SetOwnerFences).
func QueueOwner(queue ids.Owner) ids.Owner {
	if o, ok := isOutbox(queue); ok {
		return o
	}
	if o, ok := isIntake(queue); ok {
		return o
	}
	return queue
}
