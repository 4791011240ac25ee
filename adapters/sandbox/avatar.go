package sandbox

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"slices"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// AvatarMIMEType is the type of every avatar on the platform.
const AvatarMIMEType = "image/png"

// Geometry of the generated avatars: a grid of avatarCells×avatarCells
// cells, mirrored left to right, each avatarCellPx pixels wide.
const (
	avatarCells  = 5
	avatarCellPx = 8
)

// makeAvatar draws the picture of a seeded user: a symmetric pattern of
// squares in a colour, both taken from a hash of the id, so that the same
// user always gets the same bytes.
func makeAvatar(id ids.UserID) []byte {
	sum := sha256.Sum256([]byte("drawbridge sandbox avatar " + string(id)))
	// Keep the colour away from the light background.
	fg := color.RGBA{R: sum[0] / 2, G: sum[1] / 2, B: sum[2] / 2, A: 0xff}
	bg := color.RGBA{R: 0xf2, G: 0xf2, B: 0xf2, A: 0xff}
	size := avatarCells * avatarCellPx
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{bg, fg})
	half := (avatarCells + 1) / 2
	for y := range avatarCells {
		for x := range half {
			if sum[3+y*half+x]&1 == 0 {
				continue
			}
			for _, cx := range []int{x, avatarCells - 1 - x} {
				for py := y * avatarCellPx; py < (y+1)*avatarCellPx; py++ {
					for px := cx * avatarCellPx; px < (cx+1)*avatarCellPx; px++ {
						img.SetColorIndex(px, py, 1)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		// Encoding an in-memory paletted image cannot fail.
		panic(fmt.Sprintf("sandbox: encoding an avatar: %v", err))
	}
	return buf.Bytes()
}

// avatarHash is the hash of a picture as ContactInfo.AvatarHash carries
// it: SHA-1 of the bytes in hex, as XEP-0153 has it.
func avatarHash(data []byte) string {
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

// setAvatar sets (or, with no data, removes) the user's picture.
func (u *user) setAvatar(data []byte) {
	if len(data) == 0 {
		u.avatar, u.avatarHash = nil, ""
		return
	}
	u.avatar, u.avatarHash = slices.Clone(data), avatarHash(data)
}

// avatar returns the picture of user id.
func (p *Platform) avatar(id ids.UserID) (gateway.Avatar, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[id]
	if u == nil {
		return gateway.Avatar{}, fmt.Errorf("sandbox: no user %s on the platform: %w", id, gateway.ErrUnknownChat)
	}
	if len(u.avatar) == 0 {
		return gateway.Avatar{}, nil
	}
	return gateway.Avatar{Hash: u.avatarHash, MIMEType: AvatarMIMEType, Data: slices.Clone(u.avatar)}, nil
}

// Avatar returns the picture of a user as the platform stores it (what
// Session.GetAvatar gives the hub): a zero Avatar if the user has none,
// and false if there is no such user.
func (p *Platform) Avatar(id ids.UserID) (gateway.Avatar, bool) {
	a, err := p.avatar(id)
	return a, err == nil
}

// SetAvatar changes the picture of a user (any user: a scripted human, a
// bot, an account); data must be a PNG image, and empty data removes the
// picture. Every linked account that has the user as a contact gets an
// updated event.ContactInfo with the new AvatarHash (none if the picture
// did not change). An unknown user wraps gateway.ErrUnknownChat, data
// that is not a PNG image gateway.ErrBadRequest.
func (p *Platform) SetAvatar(id ids.UserID, data []byte) error {
	if len(data) > 0 {
		if _, err := png.DecodeConfig(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("sandbox: the avatar of %s is not a PNG image (%v): %w", id, err, gateway.ErrBadRequest)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[id]
	if u == nil {
		return fmt.Errorf("sandbox: no user %s on the platform: %w", id, gateway.ErrUnknownChat)
	}
	before := u.avatarHash
	u.setAvatar(data)
	if u.avatarHash == before {
		return nil
	}
	p.watch.bump()
	for _, a := range p.accountsWithContactLocked(id) {
		p.deliverLocked(a, nil, true, nil, func() event.Event { return p.contactInfoLocked(a.id, id) })
	}
	return nil
}
