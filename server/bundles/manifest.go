// Package bundles keeps the RAUC bundles admins upload for the devices'
// system updates: each file is streamed to disk under the server's data
// folder, named by its SHA-256, and its manifest (version, compatible) is
// read from the bundle's squashfs image. The bundle's signature is not
// checked here: the device's RAUC checks it against the keyring in its
// image, and refuses a bundle not signed by the office's key.
package bundles

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Manifest is what a bundle's manifest.raucm says of it.
type Manifest struct {
	// Compatible is the system the bundle is for ("numerek-rpi4"); the
	// device's RAUC refuses another.
	Compatible string
	// Version is the system version the bundle installs.
	Version     string
	Description string
	Build       string
	// Images are the image sections' names ("rootfs", "boot").
	Images []string
}

// MaxManifest is the largest manifest read: a real one is a few hundred
// bytes.
const MaxManifest = 64 << 10

// ParseManifest reads a manifest.raucm, an INI file (GLib's key file:
// [groups], key=value lines, # comments). The error names the line and
// what is wrong; a manifest without update.compatible or update.version
// is refused, since neither the page nor a device can use it.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if len(data) > MaxManifest {
		return m, fmt.Errorf("manifest.raucm: %d bytes, more than %d", len(data), MaxManifest)
	}
	if !utf8.Valid(data) {
		return m, fmt.Errorf("manifest.raucm: not UTF-8 text")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxManifest+1)
	group, n := "", 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return m, fmt.Errorf("manifest.raucm:%d: %q is not a [group] line", n, line)
			}
			group = line[1 : len(line)-1]
			if strings.HasPrefix(group, "image.") {
				m.Images = append(m.Images, strings.TrimPrefix(group, "image."))
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return m, fmt.Errorf("manifest.raucm:%d: %q is neither a [group] nor a key=value line", n, line)
		}
		if group == "" {
			return m, fmt.Errorf("manifest.raucm:%d: key %q before any [group]", n, strings.TrimSpace(key))
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if group != "update" {
			continue
		}
		switch key {
		case "compatible":
			m.Compatible = value
		case "version":
			m.Version = value
		case "description":
			m.Description = value
		case "build":
			m.Build = value
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("manifest.raucm:%d: %w", n+1, err)
	}
	switch {
	case m.Compatible == "":
		return m, fmt.Errorf("manifest.raucm: no compatible= in [update]")
	case m.Version == "":
		return m, fmt.Errorf("manifest.raucm: no version= in [update]")
	case len(m.Compatible) > 100 || len(m.Version) > 100:
		return m, fmt.Errorf("manifest.raucm: compatible or version longer than 100 bytes")
	}
	return m, nil
}
