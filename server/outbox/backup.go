package outbox

import (
	"io"

	"github.com/numerek/numerek/store"
)

// WriteBackup writes a consistent copy of the outbox (messages not yet
// delivered, and the sent ones kept for the admins' page) to w, while it
// goes on sending: a restored server still owes residents what it owed.
// store.ErrInDatabase when the messages are in the shared database.
func (o *Outbox) WriteBackup(w io.Writer) error {
	if o.file == nil {
		return store.ErrInDatabase
	}
	return store.CopyOpen(o.file, w)
}
