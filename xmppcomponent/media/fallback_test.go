package media

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// uploaderFunc adapts a function to Uploader.
type uploaderFunc func(ctx context.Context, f Upload) (string, error)

func (u uploaderFunc) Upload(ctx context.Context, f Upload) (string, error) { return u(ctx, f) }

func TestFallback(t *testing.T) {
	var secondGot string
	second := uploaderFunc(func(ctx context.Context, f Upload) (string, error) {
		b, _ := io.ReadAll(f.Body)
		secondGot = string(b)
		return "https://host/second", nil
	})
	refusing := uploaderFunc(func(ctx context.Context, f Upload) (string, error) {
		return "", &SlotError{Service: "upload.example.test", Condition: "forbidden", kind: ErrForbidden}
	})
	readingThenFailing := uploaderFunc(func(ctx context.Context, f Upload) (string, error) {
		buf := make([]byte, 2)
		f.Body.Read(buf)
		return "", errors.New("connection reset")
	})
	first := uploaderFunc(func(ctx context.Context, f Upload) (string, error) { return "https://host/first", nil })

	u, err := Fallback{Primary: first, Secondary: second}.Upload(testCtx(t), Upload{Size: 4, Body: strings.NewReader("data")})
	if err != nil || u != "https://host/first" {
		t.Errorf("primary works: %q %v", u, err)
	}
	u, err = Fallback{Primary: refusing, Secondary: second}.Upload(testCtx(t), Upload{Size: 4, Body: strings.NewReader("data")})
	if err != nil || u != "https://host/second" || secondGot != "data" {
		t.Errorf("slot refused: %q %v, secondary read %q", u, err, secondGot)
	}
	_, err = Fallback{Primary: readingThenFailing, Secondary: second}.Upload(testCtx(t), Upload{Size: 4, Body: strings.NewReader("data")})
	if err == nil || err.Error() != "connection reset" {
		t.Errorf("body consumed: %v, want the primary's error", err)
	}
	u, err = Fallback{Secondary: second}.Upload(testCtx(t), Upload{Size: 4, Body: strings.NewReader("data")})
	if err != nil || u != "https://host/second" {
		t.Errorf("no primary: %q %v", u, err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	cancelled := uploaderFunc(func(ctx context.Context, f Upload) (string, error) { return "", ctx.Err() })
	if _, err := (Fallback{Primary: cancelled, Secondary: second}).Upload(ctx, Upload{Size: 4, Body: strings.NewReader("data")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	failing := uploaderFunc(func(ctx context.Context, f Upload) (string, error) { return "", ErrQuota })
	if _, err := (Fallback{Primary: refusing, Secondary: failing}).Upload(testCtx(t), Upload{Size: 4, Body: strings.NewReader("data")}); !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("both fail: %v", err)
	}
}
