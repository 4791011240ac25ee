package whatsapp

import (
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store/sqlstore"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"
)

// TestReportingTokens: the production client attaches WhatsApp's
// reporting token to the messages it sends (texts and files; not to
// reactions and poll votes, as WhatsApp's own clients do), so that a
// recipient can report a message from the gateway like any other.
func TestReportingTokens(t *testing.T) {
	ctx := t.Context()
	container, err := sqlstore.New(ctx, "sqlite", SQLiteDSN(t.TempDir()+"/wa.db"), waLog.Noop)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { container.Close() })
	c, ok := NewWhatsmeowClient(container.NewDevice(), waLog.Noop).(*whatsmeow.Client)
	if !ok {
		t.Fatal("NewWhatsmeowClient is not a *whatsmeow.Client")
	}
	for _, tc := range []struct {
		name string
		msg  *waE2E.Message
		want bool
	}{
		{"text", &waE2E.Message{Conversation: proto.String("hi")}, true},
		{"photo", &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Caption: proto.String("look")}}, true},
		{"reaction", &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Text: proto.String("👍")}}, false},
	} {
		//lint:ignore SA1019 whatsmeow's internals are the only way to ask what a send would carry without its servers
		if got := c.DangerousInternals().ShouldIncludeReportingToken(tc.msg); got != tc.want {
			t.Errorf("%s: reporting token included = %v, want %v", tc.name, got, tc.want)
		}
	}
}
