package firstboot

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writeFile replaces path with data (mode perm): written and synced to a
// temporary file beside it, renamed over it, and the folder synced, so
// that after a power cut on ext4 the name holds the old data or the new,
// whole.
func writeFile(path string, data []byte, perm fs.FileMode) error {
	return writeOwned(path, data, perm, nil)
}

// writeOwned is writeFile giving the file to owner (nil: the caller's).
func writeOwned(path string, data []byte, perm fs.FileMode, owner *Owner) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename there is nothing left to remove
	err = f.Chmod(perm)
	if err == nil && owner != nil {
		err = f.Chown(owner.UID, owner.GID)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeSymlink replaces path with a symbolic link to target, the same
// way.
func writeSymlink(path, target string) error {
	if cur, err := os.Readlink(path); err == nil && cur == target {
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".new")
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// removeFile removes path if it is there, durably.
func removeFile(path string) error {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename or a removal in dir survive a power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// replaceOnFAT replaces the card's numerek.txt. FAT has no journal, but
// this is safe enough, for three reasons. It is done only once the
// settings and the secrets are kept on the data partition, so nothing of
// the file can be lost whatever happens to it; until the replacement is
// whole, the next boot finds the card's file different from the kept one
// and does it again. The new text is written and synced under another
// name first, and the rename that puts it in place rewrites one 32-byte
// directory entry, within one sector: a power cut leaves the old file or
// the new one, at worst with a lost or doubly-used cluster that
// fsck.vfat repairs (systemd-fsck at boot, given a pass number in
// fstab). And a file that still came out garbled would only be a
// mistake on the screen, the device running on the settings it kept.
func replaceOnFAT(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, fatTemp)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// fatTemp is the new numerek.txt while it is written: an 8.3 name, which
// FAT keeps in one directory entry.
const fatTemp = "NUMEREK.NEW"

// readFull reads until buf is full or the file ends.
func readFull(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}
