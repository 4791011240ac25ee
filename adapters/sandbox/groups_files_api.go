package sandbox

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// SendGroupFileAs makes member from send a file into the group, and
// returns the message's id. The file obeys the platform's rules, as in
// SendFileAs; every member account gets an event.Message whose only
// attachment opens to data.
func (p *Platform) SendGroupFileAs(ctx context.Context, from ids.UserID, group ids.ChatID, name, mimeType string, data []byte) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f, err := p.newFile(name, mimeType, "", data)
	if err != nil {
		return "", err
	}
	return p.routeGroup(groupOutgoing{from: from, group: group, files: []File{f}})
}
