package sandbox

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/httpguard"
)

// The web page lets a person play a user of the platform with a mouse:
// pick or create a user, chat with the XMPP users' accounts and with
// other users, send files, reply, edit, retract, react, read, type, and
// make groups. Everything it does goes through the same Platform
// functions the Platform API uses, so it is an ordinary platform event
// that reaches the XMPP side through the hub; neither the hub nor the
// XMPP side knows about the page.
//
// The page is static (web/, embedded, no build step, nothing fetched from
// elsewhere) and talks JSON to /api/ (web_api.go); /api/events pushes a
// Server-Sent Event at every change of the platform (web_events.go).
// Requests pass the management API's rules (package httpguard): foreign
// Origin, Sec-Fetch-Site and Host are refused, a changing request needs
// Content-Type: application/json, and with web.token set every request
// needs the token.

//go:embed web
var webFiles embed.FS

// webCSP is the Content-Security-Policy of every answer: nothing but the
// page's own files, no inline script or style, images also as blob: (the
// preview of a file about to be sent).
const webCSP = "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// webTokenCookie holds the token in the browser once it was given as
// ?token=.
const webTokenCookie = "drawbridge_sandbox_token"

// WebServer serves the platform's web page.
type WebServer struct {
	p     *Platform
	log   *slog.Logger
	guard *httpguard.Guard
	token httpguard.Token
	files http.Handler
	// done ends the live updates (Server-Sent Events) at Close.
	done chan struct{}
	srv  *http.Server
	ln   net.Listener
}

// NewWebServer returns the page of p for the listen address and token
// (empty: none; then listen must be a loopback address, as the management
// API requires). It does not listen yet; Handler serves it in tests.
func NewWebServer(p *Platform, listen, token string, log *slog.Logger) (*WebServer, error) {
	w := webConfig{Listen: listen, Token: token}
	var problems []string
	w.ValidateSection(func(key, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s.%s.%s: %s", PlatformID, ConfigWeb, key, fmt.Sprintf(format, args...)))
	})
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	return &WebServer{
		p: p, log: log,
		guard: httpguard.New(listen, nil, fmt.Sprintf("%s.%s.listen", PlatformID, ConfigWeb)),
		token: httpguard.NewToken(token),
		files: http.FileServerFS(static),
		done:  make(chan struct{}),
	}, nil
}

// Handler is the page with every rule applied.
func (s *WebServer) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux) // web_api.go
	mux.HandleFunc("/{file...}", s.serveStatic)
	return s.secure(mux)
}

// secure sets the headers every answer carries and refuses what the
// browser guard or the token refuses.
func (s *WebServer) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", webCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if reason, code := s.guard.Check(r, false); reason != "" {
			s.refuse(w, r, reason, code)
			return
		}
		if s.token.IsSet() && !s.authorised(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorised checks the token: ?token= (then kept in a cookie, and the
// browser sent on without it), the cookie, or a bearer header.
func (s *WebServer) authorised(w http.ResponseWriter, r *http.Request) bool {
	if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet {
		if !s.token.Matches(q) {
			s.refuse(w, r, "the token is not valid", http.StatusUnauthorized)
			return false
		}
		http.SetCookie(w, &http.Cookie{Name: webTokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		u := *r.URL
		q := u.Query()
		q.Del("token")
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	if c, err := r.Cookie(webTokenCookie); err == nil && s.token.Matches(c.Value) {
		return true
	}
	if r.Header.Get("Authorization") != "" {
		if reason := s.token.CheckBearer(r); reason != "" {
			s.refuse(w, r, reason, http.StatusUnauthorized)
			return false
		}
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="drawbridge sandbox"`)
	s.refuse(w, r, fmt.Sprintf("a token is required: open the page as /?token=TOKEN (%s.%s.token)", PlatformID, ConfigWeb), http.StatusUnauthorized)
	return false
}

// serveStatic serves the embedded files; a folder is never listed.
func (s *WebServer) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.refuse(w, r, r.Method+" is not allowed here", http.StatusMethodNotAllowed)
		return
	}
	name := r.PathValue("file")
	if name == "" {
		name = "index.html"
	}
	if st, err := fs.Stat(webFiles, "web/"+name); err != nil || st.IsDir() {
		s.refuse(w, r, fmt.Sprintf("no file %q", "/"+name), http.StatusNotFound)
		return
	}
	if name == "index.html" {
		// Served as "/": FileServer sends /index.html there itself.
		http.ServeFileFS(w, r, webFiles, "web/index.html")
		return
	}
	s.files.ServeHTTP(w, r)
}

// webError is the body of every refusal and failure.
type webError struct {
	Error string `json:"error"`
}

// refuse answers with status and a JSON error naming reason, and logs it.
func (s *WebServer) refuse(w http.ResponseWriter, r *http.Request, reason string, status int) {
	s.log.Warn("sandbox web: request refused", "reason", reason, "status", status, "remote", r.RemoteAddr, "path", r.URL.Path)
	writeJSON(w, status, webError{Error: reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Listen opens the listener and serves in the background until Close.
func (s *WebServer) Listen(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%s.%s.listen: %w", PlatformID, ConfigWeb, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox web: serving stopped", "err", err)
		}
	}()
	return nil
}

// URL is where the page is, once Listen succeeded ("" before).
func (s *WebServer) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String() + "/"
}

// Close ends the live updates and stops serving.
func (s *WebServer) Close(ctx context.Context) error {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}
