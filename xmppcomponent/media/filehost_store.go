package media

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// fileMeta is the JSON sidecar of a stored file.
type fileMeta struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"`
	Size    int64     `json:"size"`
	Owner   string    `json:"owner,omitempty"`
	Sender  string    `json:"sender,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// writeMeta writes the sidecar through a temporary file and a rename: once
// it exists, the file is served.
func (h *FileHost) writeMeta(id string, m fileMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("media: encoding file metadata: %w", err)
	}
	tmp, err := os.CreateTemp(h.cfg.Dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("media: storing file metadata: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), h.path(id, metaSuffix))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("media: storing file metadata: %w", err)
	}
	return nil
}

// load reads the sidecars in Dir into the index and removes the remains of
// incomplete files: temporary files, data without a sidecar, and sidecars
// that are unreadable or do not match their data. Names that are not the
// file host's are left alone.
func (h *FileHost) load() error {
	entries, err := os.ReadDir(h.cfg.Dir)
	if err != nil {
		return fmt.Errorf("media: reading the file host directory: %w", err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Name()] = true
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix):
			h.removeQuietly(name)
		case strings.HasSuffix(name, dataSuffix) && validFileID(strings.TrimSuffix(name, dataSuffix)):
			if !present[strings.TrimSuffix(name, dataSuffix)+metaSuffix] {
				h.removeQuietly(name)
			}
		case strings.HasSuffix(name, metaSuffix) && validFileID(strings.TrimSuffix(name, metaSuffix)):
			id := strings.TrimSuffix(name, metaSuffix)
			m, err := h.readMeta(id)
			if err != nil {
				h.log.Warn("dropping a stored file with unreadable metadata", slog.String("id", id[:8]), slog.Any("error", err))
				h.removeQuietly(id + metaSuffix)
				h.removeQuietly(id + dataSuffix)
				continue
			}
			h.files[id] = m
			h.used += m.Size
			h.count(m.Owner, m.Sender, m.Size)
		}
	}
	h.log.Info("file host ready", slog.Int("files", len(h.files)), slog.Int64("bytes", h.used), slog.Int64("quota", h.cfg.Quota))
	return nil
}

// readMeta reads and checks one sidecar against its data file.
func (h *FileHost) readMeta(id string) (fileMeta, error) {
	var m fileMeta
	b, err := os.ReadFile(h.path(id, metaSuffix))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, err
	}
	st, err := os.Stat(h.path(id, dataSuffix))
	if err != nil {
		return m, err
	}
	if st.Size() != m.Size || m.Name == "" || m.Type == "" {
		return m, errors.New("metadata does not match the data file")
	}
	return m, nil
}

func (h *FileHost) removeQuietly(name string) {
	if err := os.Remove(h.path(name, "")); err != nil && !errors.Is(err, os.ErrNotExist) {
		h.log.Warn("removing a leftover file", slog.String("file", name), slog.Any("error", err))
	}
}

// RemoveExpired deletes the files whose expiry has passed (by the
// configured clock) and returns how many it removed. The janitor calls it
// periodically, and Upload when the quota is in the way.
func (h *FileHost) RemoveExpired() (int, error) {
	now := h.cfg.Now()
	h.mu.Lock()
	var expired []string
	for id, m := range h.files {
		if !now.Before(m.Expires) {
			expired = append(expired, id)
			delete(h.files, id)
			h.used -= m.Size
			h.count(m.Owner, m.Sender, -m.Size)
		}
	}
	h.mu.Unlock()
	var errs []error
	for _, id := range expired {
		// The sidecar first: without it a leftover data file is never
		// served and is removed at the next start.
		for _, suffix := range []string{metaSuffix, dataSuffix} {
			if err := os.Remove(h.path(id, suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if len(expired) > 0 {
		h.log.Info("expired files removed", slog.Int("count", len(expired)))
	}
	return len(expired), errors.Join(errs...)
}

// janitor removes expired files every JanitorInterval until Close.
func (h *FileHost) janitor() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.JanitorInterval)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
			if _, err := h.RemoveExpired(); err != nil {
				h.log.Warn("removing expired files", slog.Any("error", err))
			}
		}
	}
}

// lookup returns the metadata of a live file.
func (h *FileHost) lookup(id string) (fileMeta, bool) {
	h.mu.Lock()
	m, ok := h.files[id]
	h.mu.Unlock()
	if !ok || !h.cfg.Now().Before(m.Expires) {
		return fileMeta{}, false
	}
	return m, true
}
