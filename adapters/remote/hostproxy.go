package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"google.golang.org/grpc"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// errNoHost: no gateway is attached on the Host stream right now.
var errNoHost = errors.New("no gateway attached")

type hostStream = grpc.BidiStreamingServer[adapterv1.HostMessage, adapterv1.AdapterMessage]

// hostProxy is the gateway.Host an adapter served by Server sees: every
// call travels on the Host stream the gateway opened.
type hostProxy struct {
	local *slog.Logger
	log   *slog.Logger
	refs  *refTable

	mu      sync.Mutex
	stream  hostStream
	gen     int
	seq     uint64
	pending map[uint64]chan *adapterv1.HostMessage
	sendMu  sync.Mutex
}

var _ gateway.Host = (*hostProxy)(nil)

func newHostProxy(local *slog.Logger, refs *refTable) *hostProxy {
	h := &hostProxy{local: local, refs: refs, pending: map[uint64]chan *adapterv1.HostMessage{}}
	h.log = slog.New(&logHandler{h: h, local: local.Handler()})
	return h
}

// serve runs one Host stream until it ends. A newer stream replaces an
// older one; requests waiting on the old one fail.
func (h *hostProxy) serve(stream hostStream) error {
	h.mu.Lock()
	h.gen++
	gen := h.gen
	h.stream = stream
	h.failPendingLocked()
	h.mu.Unlock()
	// The first message tells the gateway the stream is taken: calls
	// that need it (a session's key-value reads) may come now.
	h.sendMu.Lock()
	err := stream.Send(&adapterv1.AdapterMessage{})
	h.sendMu.Unlock()
	if err != nil {
		return err
	}
	defer func() {
		h.mu.Lock()
		if h.gen == gen {
			h.stream = nil
			h.failPendingLocked()
		}
		h.mu.Unlock()
	}()
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		h.mu.Lock()
		ch, ok := h.pending[m.GetSeq()]
		if ok && h.gen == gen {
			delete(h.pending, m.GetSeq())
		}
		h.mu.Unlock()
		switch {
		case ok:
			ch <- m
		case m.GetSeq() == 0:
			// The host's first message only opens the stream.
		default:
			h.local.Warn("adapter sdk: an answer from the gateway to no request", "seq", m.GetSeq())
		}
	}
}

func (h *hostProxy) failPendingLocked() {
	for seq, ch := range h.pending {
		close(ch)
		delete(h.pending, seq)
	}
}

// call sends m and, if wait, waits for the answer. errNoHost when no
// gateway is attached or it went away before answering.
func (h *hostProxy) call(ctx context.Context, m *adapterv1.AdapterMessage, wait bool) (*adapterv1.HostMessage, error) {
	h.mu.Lock()
	stream := h.stream
	if stream == nil {
		h.mu.Unlock()
		return nil, errNoHost
	}
	var ch chan *adapterv1.HostMessage
	if wait {
		h.seq++
		m.Seq = h.seq
		ch = make(chan *adapterv1.HostMessage, 1)
		h.pending[m.Seq] = ch
	}
	h.mu.Unlock()
	h.sendMu.Lock()
	err := stream.Send(m)
	h.sendMu.Unlock()
	if err != nil {
		h.forget(m.Seq)
		return nil, fmt.Errorf("%w: %v", errNoHost, err)
	}
	if !wait {
		return nil, nil
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%w: the gateway went away before answering", errNoHost)
		}
		return r, nil
	case <-ctx.Done():
		h.forget(m.Seq)
		return nil, ctx.Err()
	}
}

func (h *hostProxy) forget(seq uint64) {
	h.mu.Lock()
	delete(h.pending, seq)
	h.mu.Unlock()
}

// Emit implements gateway.Host: it returns once the gateway journaled the
// event; without a gateway, gateway.ErrNotDurable (offer it again later).
func (h *hostProxy) Emit(ctx context.Context, ev event.Event) error {
	var refs []string
	pe, err := eventToProto(ev, func(a event.Attachment) string {
		r := h.refs.put(a.Open)
		refs = append(refs, r)
		return r
	})
	if err != nil {
		return err
	}
	r, err := h.call(ctx, &adapterv1.AdapterMessage{Kind: &adapterv1.AdapterMessage_Event{Event: pe}}, true)
	if errors.Is(err, errNoHost) {
		err = fmt.Errorf("emit: %v: %w", err, gateway.ErrNotDurable)
	}
	if err == nil {
		err = fromStatus(r.GetError())
	}
	if err != nil {
		for _, ref := range refs {
			h.refs.drop(ref)
		}
	}
	return err
}

// SetState implements gateway.Host. Without a gateway the state is only
// logged: the gateway asks for states again when it attaches (it
// reconnects the sessions).
func (h *hostProxy) SetState(ctx context.Context, account ids.AccountID, state event.State, detail string) {
	_, err := h.call(ctx, &adapterv1.AdapterMessage{Kind: &adapterv1.AdapterMessage_SetState{SetState: &adapterv1.StateChange{
		Account: string(account), State: string(state), Detail: detail}}}, false)
	if err != nil {
		h.local.Warn("adapter sdk: account state not reported", "account", account, "state", state, "err", err)
	}
}

// KV implements gateway.Host: the gateway keeps the values.
func (h *hostProxy) KV(account ids.AccountID) gateway.AccountKV {
	return &remoteKV{h: h, account: string(account)}
}

// Logger implements gateway.Host: records go to the gateway's log.
func (h *hostProxy) Logger() *slog.Logger { return h.log }

// hostFile gives a file the gateway sends (by reference) an Open that
// reads it from the gateway, chunk by chunk.
func (h *hostProxy) hostFile(ref string) func(context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		return &hostFileReader{ctx: ctx, h: h, ref: ref}, nil
	}
}

type hostFileReader struct {
	ctx context.Context
	h   *hostProxy
	ref string
	off int64
	buf []byte
	eof bool
}

func (r *hostFileReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		m, err := r.h.call(r.ctx, &adapterv1.AdapterMessage{Kind: &adapterv1.AdapterMessage_ReadAttachment{
			ReadAttachment: &adapterv1.ReadAttachment{Ref: r.ref, Offset: r.off}}}, true)
		if err != nil {
			return 0, fmt.Errorf("reading file %s from the gateway: %w", r.ref, err)
		}
		if err := fromStatus(m.GetError()); err != nil {
			return 0, fmt.Errorf("reading file %s from the gateway: %w", r.ref, err)
		}
		r.buf, r.eof = m.GetValue(), m.GetEof()
		r.off += int64(len(r.buf))
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *hostFileReader) Close() error { return nil }

// remoteKV is an account's key-value space kept by the gateway.
type remoteKV struct {
	h       *hostProxy
	account string
}

func (kv *remoteKV) do(ctx context.Context, op adapterv1.KVRequest_Op, key string, value []byte) ([]byte, error) {
	m, err := kv.h.call(ctx, &adapterv1.AdapterMessage{Kind: &adapterv1.AdapterMessage_Kv{Kv: &adapterv1.KVRequest{
		Op: op, Account: kv.account, Key: key, Value: value}}}, true)
	if errors.Is(err, errNoHost) {
		return nil, fmt.Errorf("key-value %s: %v: %w", key, err, gateway.ErrUnavailable)
	}
	if err != nil {
		return nil, err
	}
	if err := fromStatus(m.GetError()); err != nil {
		return nil, err
	}
	return m.GetValue(), nil
}

func (kv *remoteKV) Get(ctx context.Context, key string) ([]byte, error) {
	return kv.do(ctx, adapterv1.KVRequest_OP_GET, key, nil)
}

func (kv *remoteKV) Set(ctx context.Context, key string, value []byte) error {
	_, err := kv.do(ctx, adapterv1.KVRequest_OP_SET, key, value)
	return err
}

func (kv *remoteKV) Delete(ctx context.Context, key string) error {
	_, err := kv.do(ctx, adapterv1.KVRequest_OP_DELETE, key, nil)
	return err
}

// logHandler sends records to the gateway, or to the local handler while
// none is attached.
type logHandler struct {
	h     *hostProxy
	local slog.Handler
	attrs []slog.Attr
	group string
}

func (l *logHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return l.local.Enabled(ctx, lv)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	rec := &adapterv1.LogRecord{Message: r.Message, Attrs: map[string]string{}}
	switch {
	case r.Level >= slog.LevelError:
		rec.Level = adapterv1.LogRecord_LEVEL_ERROR
	case r.Level >= slog.LevelWarn:
		rec.Level = adapterv1.LogRecord_LEVEL_WARN
	case r.Level >= slog.LevelInfo:
		rec.Level = adapterv1.LogRecord_LEVEL_INFO
	default:
		rec.Level = adapterv1.LogRecord_LEVEL_DEBUG
	}
	add := func(a slog.Attr) bool {
		k := a.Key
		if l.group != "" {
			k = l.group + "." + k
		}
		rec.Attrs[k] = a.Value.Resolve().String()
		return true
	}
	for _, a := range l.attrs {
		add(a)
	}
	r.Attrs(add)
	if _, err := l.h.call(context.WithoutCancel(ctx), &adapterv1.AdapterMessage{Kind: &adapterv1.AdapterMessage_Log{Log: rec}}, false); err != nil {
		return l.local.WithAttrs(l.attrs).Handle(ctx, r)
	}
	return nil
}

func (l *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *l
	c.attrs = append(append([]slog.Attr(nil), l.attrs...), as...)
	return &c
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	c := *l
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
