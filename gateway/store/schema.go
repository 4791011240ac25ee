package store

import "fmt"

// SchemaTooNewError is returned when a backend opens a store whose schema
// version is newer than any this program knows: a newer drawbridge wrote
// it, and running an older one on it could misread or destroy its data.
// Migrations only go forward, at start, automatically.
type SchemaTooNewError struct {
	// Store names what was opened (a file path, a Redis address and key).
	Store string
	// Found is the schema version the store has; Known the newest this
	// program knows.
	Found, Known int
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("%s has schema version %d, but this drawbridge knows schema versions up to %d: "+
		"a newer drawbridge has used it. Run that newer drawbridge (see CHANGELOG.md), "+
		"or restore the backup taken before the upgrade; this one will not touch it",
		e.Store, e.Found, e.Known)
}
