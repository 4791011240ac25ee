package media

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// content reads a fetched file and closes it when the test ends.
func content(t *testing.T, f *File) []byte {
	t.Helper()
	t.Cleanup(func() { f.Close() })
	rc, err := f.Open(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirEntries lists dir, failing the test on error.
func dirEntries(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestFetchSpoolsToATempFile: the download lands in a file in TempDir
// (not in memory), Close removes it, and a refused download leaves
// nothing behind, whether its server declared the length or not.
func TestFetchSpoolsToATempFile(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 10_000)
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	for _, tc := range []struct {
		name, query string
	}{{"declared", ""}, {"chunked", "?chunked=1"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := &Fetcher{MaxSize: int64(len(body)), AllowPrivate: true, TempDir: dir}
			file, err := f.Fetch(testCtx(t), s.URL+"/a.txt"+tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if es := dirEntries(t, dir); len(es) != 1 {
				t.Fatalf("%d files in TempDir, want the download", len(es))
			}
			if got := content(t, file); !bytes.Equal(got, body) || file.Size != int64(len(body)) || file.MIMEType != "text/plain" {
				t.Errorf("%d bytes (size %d, %s)", len(got), file.Size, file.MIMEType)
			}
			if err := file.Close(); err != nil {
				t.Fatal(err)
			}
			if es := dirEntries(t, dir); len(es) != 0 {
				t.Errorf("%s left after Close", es[0].Name())
			}
			small := &Fetcher{MaxSize: int64(len(body)) - 1, AllowPrivate: true, TempDir: dir}
			if _, err := small.Fetch(testCtx(t), s.URL+"/a.txt"+tc.query); !errors.Is(err, ErrTooLarge) {
				t.Errorf("one byte over MaxSize: %v", err)
			}
			if es := dirEntries(t, dir); len(es) != 0 {
				t.Errorf("%s left after a refused download", es[0].Name())
			}
		})
	}
}

// TestBudget: downloads take their bytes from a shared Budget while their
// files exist; when it is used up the next one waits, and passes once a
// file is closed, or fails with ErrBusy after Budget's wait. A file larger
// than the whole budget fails at once with ErrTooLarge.
func TestBudget(t *testing.T) {
	const size = 100_000
	body := bytes.Repeat([]byte{'x'}, size)
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		w.Write(body)
	})
	for _, q := range []string{"", "?chunked=1"} {
		t.Run("query"+q, func(t *testing.T) {
			b := NewBudget(2*budgetStep, 200*time.Millisecond)
			f := &Fetcher{MaxSize: size, AllowPrivate: true, TempDir: t.TempDir(), Budget: b}
			var files []*File
			for {
				file, err := f.Fetch(testCtx(t), s.URL+"/f"+q)
				if errors.Is(err, ErrBusy) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, file)
				if len(files) > 2*budgetStep/size+1 {
					t.Fatalf("%d files of %d bytes fit a budget of %d", len(files), size, b.Max())
				}
			}
			if b.InUse() > b.Max() || len(files) == 0 {
				t.Fatalf("%d bytes in use of %d with %d files", b.InUse(), b.Max(), len(files))
			}
			// A waiting download gets the room a closed file gives back.
			b.wait = time.Minute
			done := make(chan error, 1)
			go func() {
				file, err := f.Fetch(testCtx(t), s.URL+"/f"+q)
				if err == nil {
					file.Close()
				}
				done <- err
			}()
			for deadline := time.Now().Add(10 * time.Second); b.Waiting() == 0; {
				select {
				case err := <-done:
					t.Fatalf("a download passed a used-up budget: %v", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("no download waits for the budget")
				}
				runtime.Gosched()
			}
			files[0].Close()
			if err := <-done; err != nil {
				t.Fatalf("the waiting download, after a file was closed: %v", err)
			}
			for _, file := range files {
				file.Close()
			}
			if b.InUse() != 0 {
				t.Errorf("%d bytes still in use after every file was closed", b.InUse())
			}
			big := &Fetcher{MaxSize: 10 * budgetStep, AllowPrivate: true, Budget: NewBudget(size-1, time.Minute)}
			if q == "" {
				if _, err := big.Fetch(testCtx(t), s.URL+"/f"); !errors.Is(err, ErrTooLarge) {
					t.Errorf("a declared file larger than the budget: %v", err)
				}
			}
		})
	}
}

// TestFetchHostHangsUp: a host that accepts and then closes the connection
// without an answer, or in the middle of the body, is the URL's fault
// (ErrUnreachable), not the gateway's.
func TestFetchHostHangsUp(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write string
	}{
		{"no answer", ""},
		{"half a body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\nhalf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					buf := make([]byte, 4096)
					_, _ = c.Read(buf)
					_, _ = io.WriteString(c, tc.write)
					if tcp, ok := c.(*net.TCPConn); ok && tc.write == "" {
						_ = tcp.SetLinger(0) // a reset, as when the host goes away
					}
					c.Close()
				}
			}()
			f := &Fetcher{MaxSize: 1000, AllowPrivate: true, TempDir: t.TempDir()}
			if _, err := f.Fetch(testCtx(t), "http://"+ln.Addr().String()+"/x.txt"); !errors.Is(err, ErrUnreachable) {
				t.Errorf("%v, want ErrUnreachable", err)
			}
		})
	}
}
