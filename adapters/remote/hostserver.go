package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// laneDepth is how many requests of one account wait for the hub before
// the Host stream stops reading (back-pressure on the adapter).
const laneDepth = 64

// maxSideCalls bounds the key-value requests and file reads in flight on
// one Host stream; beyond it the stream stops reading.
const maxSideCalls = 64

// hostServer answers one Host stream: events and states go to the hub in
// order per account (a lane each), key-value requests and file reads run
// beside them, log records go to the gateway's log.
type hostServer struct {
	a      *Adapter
	stream adapterv1.AdapterService_HostClient
	sendMu sync.Mutex
	lanes  map[ids.AccountID]chan func()
	side   chan struct{}
	wg     sync.WaitGroup
}

func newHostServer(a *Adapter, stream adapterv1.AdapterService_HostClient) *hostServer {
	return &hostServer{a: a, stream: stream, lanes: map[ids.AccountID]chan func(){}, side: make(chan struct{}, maxSideCalls)}
}

// run reads the stream until it breaks or ctx ends.
func (h *hostServer) run(ctx context.Context) error {
	defer func() {
		for _, l := range h.lanes {
			close(l)
		}
		h.wg.Wait()
	}()
	for {
		m, err := h.stream.Recv()
		if errors.Is(err, io.EOF) {
			return errors.New("the adapter closed the Host stream")
		}
		if err != nil {
			return fromRPC(err)
		}
		if err := h.handle(ctx, m); err != nil {
			h.a.log.Warn("remote adapter: refused a message on the Host stream", "seq", m.GetSeq(), "err", err)
			h.reply(m.GetSeq(), err, nil, false)
			if errors.Is(err, errMalformed) {
				// An adapter that breaks the protocol is dropped: the
				// supervisor restarts (or redials) it.
				return fmt.Errorf("adapter dropped: %w", err)
			}
		}
	}
}

// handle dispatches one message; an error answers it at once.
func (h *hostServer) handle(ctx context.Context, m *adapterv1.AdapterMessage) error {
	host := h.a.host
	switch k := m.GetKind().(type) {
	case *adapterv1.AdapterMessage_Event:
		ev, err := eventFromProto(k.Event, h.a.openFile)
		if err != nil {
			return err
		}
		if err := h.a.owns(ev.EventMeta().Account); err != nil {
			return err
		}
		h.lane(ev.EventMeta().Account, func() {
			h.reply(m.GetSeq(), host.Emit(ctx, ev), nil, false)
		})
	case *adapterv1.AdapterMessage_SetState:
		acct, state := ids.AccountID(k.SetState.GetAccount()), event.State(k.SetState.GetState())
		if acct == "" || state == "" {
			return fmt.Errorf("state change without account or state: %w", errMalformed)
		}
		h.lane(acct, func() { host.SetState(ctx, acct, state, k.SetState.GetDetail()) })
	case *adapterv1.AdapterMessage_Kv:
		return h.kv(ctx, m.GetSeq(), k.Kv)
	case *adapterv1.AdapterMessage_Log:
		h.logRecord(ctx, k.Log)
	case *adapterv1.AdapterMessage_ReadAttachment:
		h.sideCall(func() {
			data, eof, err := h.a.readFile(ctx, k.ReadAttachment.GetRef(), k.ReadAttachment.GetOffset())
			h.reply(m.GetSeq(), err, data, eof)
		})
	default:
		return fmt.Errorf("message without a kind: %w", errMalformed)
	}
	return nil
}

// owns refuses events of accounts the adapter has no loaded session of:
// an adapter speaks only for the accounts the host gave it.
func (a *Adapter) owns(acct ids.AccountID) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.sessions[acct]; !ok {
		return fmt.Errorf("event of account %s, which has no session here: %w", acct, gateway.ErrForbidden)
	}
	return nil
}

func (h *hostServer) lane(acct ids.AccountID, f func()) {
	l, ok := h.lanes[acct]
	if !ok {
		l = make(chan func(), laneDepth)
		h.lanes[acct] = l
		h.wg.Go(func() {
			for f := range l {
				f()
			}
		})
	}
	l <- f
}

func (h *hostServer) kv(ctx context.Context, seq uint64, r *adapterv1.KVRequest) error {
	if r.GetAccount() == "" || r.GetKey() == "" {
		return fmt.Errorf("key-value request without account or key: %w", errMalformed)
	}
	kv := h.a.host.KV(ids.AccountID(r.GetAccount()))
	var f func() ([]byte, error)
	switch r.GetOp() {
	case adapterv1.KVRequest_OP_GET:
		f = func() ([]byte, error) { return kv.Get(ctx, r.GetKey()) }
	case adapterv1.KVRequest_OP_SET:
		f = func() ([]byte, error) { return nil, kv.Set(ctx, r.GetKey(), r.GetValue()) }
	case adapterv1.KVRequest_OP_DELETE:
		f = func() ([]byte, error) { return nil, kv.Delete(ctx, r.GetKey()) }
	default:
		return fmt.Errorf("key-value operation %d: %w", r.GetOp(), errMalformed)
	}
	h.sideCall(func() {
		v, err := f()
		h.reply(seq, err, v, false)
	})
	return nil
}

// sideCall runs f beside the lanes, at most maxSideCalls at once.
func (h *hostServer) sideCall(f func()) {
	h.side <- struct{}{}
	h.wg.Go(func() {
		defer func() { <-h.side }()
		f()
	})
}

func (h *hostServer) logRecord(ctx context.Context, r *adapterv1.LogRecord) {
	level := slog.LevelInfo
	switch r.GetLevel() {
	case adapterv1.LogRecord_LEVEL_DEBUG:
		level = slog.LevelDebug
	case adapterv1.LogRecord_LEVEL_WARN:
		level = slog.LevelWarn
	case adapterv1.LogRecord_LEVEL_ERROR:
		level = slog.LevelError
	}
	attrs := make([]any, 0, 2*len(r.GetAttrs()))
	for k, v := range r.GetAttrs() {
		attrs = append(attrs, k, v)
	}
	h.a.host.Logger().Log(ctx, level, r.GetMessage(), attrs...)
}

// reply answers request seq.
func (h *hostServer) reply(seq uint64, err error, value []byte, eof bool) {
	h.sendMu.Lock()
	defer h.sendMu.Unlock()
	if serr := h.stream.Send(&adapterv1.HostMessage{Seq: seq, Error: toStatus(err), Value: value, Eof: eof}); serr != nil {
		h.a.log.Debug("remote adapter: answer not sent", "seq", seq, "err", serr)
	}
}
