package outbox

import (
	"io"

	"github.com/numerek/numerek/store"
)

// WriteBackup writes a consistent copy of the outbox (messages not yet
// delivered, and the sent ones kept for the admins' page) to w, while it
// goes on sending: a restored server still owes residents what it owed.
func (o *Outbox) WriteBackup(w io.Writer) error {
	return store.CopyOpen(o.db, w)
}
