package report

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
)

// media is one kind of attachment the suite sends: a name, a MIME type and
// a body. The image is a real PNG; the voice message, video and file are
// synthetic bytes behind the right container signature (the gateway and
// the sandbox check the MIME type and the size, not the codec).
type media struct {
	kind, name, mime string
	data             []byte
}

func fixtures() map[string]media {
	r := rand.New(rand.NewPCG(16, 16))
	noise := func(prefix string, n int) []byte {
		b := []byte(prefix)
		for len(b) < n {
			b = append(b, byte(r.UintN(256)))
		}
		return b
	}
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	var p bytes.Buffer
	_ = png.Encode(&p, img) // cannot fail on an in-memory RGBA
	return map[string]media{
		"image": {"image", "photo.png", "image/png", p.Bytes()},
		"voice": {"voice message", "voice.ogg", "audio/ogg", noise("OggS\x00\x02", 24<<10)},
		"video": {"video", "clip.mp4", "video/mp4", noise("\x00\x00\x00\x18ftypmp42", 64<<10)},
		"file":  {"file", "document.pdf", "application/pdf", noise("%PDF-1.4\n", 16<<10)},
	}
}

// unique returns m's bytes with tok appended, so that each try's copy is
// told apart from the others (a PNG reader ignores bytes after IEND).
func (m media) unique(tok string) []byte {
	return append(bytes.Clone(m.data), []byte("\n"+tok)...)
}

// fileServer is the web server the XMPP user's files are fetched from
// (XEP-0066 out-of-band URLs), on a loopback port.
type fileServer struct {
	srv   *http.Server
	base  string
	mu    sync.Mutex
	files map[string]media
}

func startFileServer() (*fileServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("report: file server: %w", err)
	}
	fs := &fileServer{base: "http://" + ln.Addr().String(), files: map[string]media{}}
	fs.srv = &http.Server{Handler: http.HandlerFunc(fs.serve)}
	go func() { _ = fs.srv.Serve(ln) }()
	return fs, nil
}

// put publishes data under a fresh path and returns its URL.
func (fs *fileServer) put(tok string, m media, data []byte) string {
	path := "/" + tok + "/" + m.name
	fs.mu.Lock()
	defer fs.mu.Unlock()
	m.data = data
	fs.files[path] = m
	return fs.base + path
}

func (fs *fileServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	m, ok := fs.files[r.URL.Path]
	fs.mu.Unlock()
	if !ok || strings.Contains(r.URL.Path, "..") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.mime)
	_, _ = w.Write(m.data)
}

func (fs *fileServer) close() { _ = fs.srv.Close() }
