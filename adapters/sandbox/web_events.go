package sandbox

import (
	"fmt"
	"net/http"
)

// events streams Server-Sent Events: one "change" at once, then one each
// time the platform changes (several changes in a row may come as one).
// The page reads what it shows again at each. The stream ends when the
// page goes away or the server closes.
func (s *WebServer) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.refuse(w, r, "this connection cannot stream events", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	for {
		gen, changed := s.p.Changes()
		if _, err := fmt.Fprintf(w, "event: change\ndata: %d\n\n", gen); err != nil {
			return
		}
		flusher.Flush()
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}
