// Package machine reads what kioskd reports about the computer it runs
// on: the board (a Raspberry Pi's model and serial number), the SoC's
// temperature and throttling, the disk, and the network's default route.
// It reads /proc and /sys through an fs.FS rooted at the machine's "/",
// so tests give it a fake tree; nothing here is needed for the device to
// work, so what cannot be read is left out, not an error.
package machine

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/numerek/numerek/protocol"
)

// Reader reads the machine.
type Reader struct {
	// Root is the machine's file tree ("/"): os.DirFS("/") in kioskd.
	Root fs.FS
	// Vcgencmd is the path of the Raspberry Pi's vcgencmd, asked for the
	// throttling when the firmware's sysfs file is not there; "" never.
	Vcgencmd string
}

// Local is the Reader of the machine this process runs on.
func Local() Reader {
	r := Reader{Root: os.DirFS("/")}
	if path, err := exec.LookPath("vcgencmd"); err == nil {
		r.Vcgencmd = path
	}
	return r
}

// text reads a small file of the tree, trimmed of the NUL and the
// newline that device-tree and sysfs files end with; "" if absent.
func (r Reader) text(path string) string {
	if r.Root == nil {
		return ""
	}
	b, err := fs.ReadFile(r.Root, path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
}

// Hardware is the board's model and serial number (from the device tree,
// as a Raspberry Pi has them) and the host's name.
func (r Reader) Hardware() protocol.Hardware {
	return protocol.Hardware{
		Model:    r.text("proc/device-tree/model"),
		Serial:   strings.TrimLeft(r.text("proc/device-tree/serial-number"), "0"),
		Hostname: r.text("proc/sys/kernel/hostname"),
	}
}

// TemperatureC is the SoC's temperature (the first thermal zone), nil
// where there is none.
func (r Reader) TemperatureC() *float64 {
	milli, err := strconv.ParseInt(r.text("sys/class/thermal/thermal_zone0/temp"), 10, 64)
	if err != nil {
		return nil
	}
	c := float64(milli) / 1000
	return &c
}

// throttledFiles is where the Raspberry Pi's firmware driver tells
// get_throttled's bits: soc:firmware/get_throttled on the Pis that have
// it, matched loosely so the tests' fake tree can name the folder without
// a colon (which module archives refuse).
const throttledFiles = "sys/devices/platform/soc/*firmware/get_throttled"

// Throttled names the Raspberry Pi's current throttling flags, from the
// firmware's sysfs file or else vcgencmd get_throttled; nil where neither
// is there (not a Pi) and none hold.
func (r Reader) Throttled(ctx context.Context) ([]string, error) {
	if r.Root != nil {
		if files, _ := fs.Glob(r.Root, throttledFiles); len(files) > 0 {
			bits, err := ParseThrottled(r.text(files[0]))
			if err != nil {
				return nil, fmt.Errorf("reading /%s: %w", files[0], err)
			}
			return ThrottledNames(bits), nil
		}
	}
	if r.Vcgencmd == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, r.Vcgencmd, "get_throttled").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s get_throttled: %w", r.Vcgencmd, err)
	}
	bits, err := ParseThrottled(string(out))
	if err != nil {
		return nil, fmt.Errorf("reading what %s get_throttled said: %w", r.Vcgencmd, err)
	}
	return ThrottledNames(bits), nil
}

// ParseThrottled reads get_throttled's bits as the sysfs file says them
// ("50005", hexadecimal) or vcgencmd does ("throttled=0x50005").
func ParseThrottled(s string) (uint32, error) {
	v := strings.TrimSpace(s)
	v = strings.TrimPrefix(v, "throttled=")
	v = strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X")
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("get_throttled %q is not a hexadecimal number", strings.TrimSpace(s))
	}
	return uint32(n), nil
}

// The flags of get_throttled that hold now (bits 0-3; bits 16-19 say the
// same "has occurred since boot").
var throttledBits = []struct {
	bit  uint
	name string
}{
	{0, "under-voltage"}, {1, "frequency-capped"}, {2, "throttled"}, {3, "soft-temperature-limit"},
}

// ThrottledNames names the flags of bits that hold now.
func ThrottledNames(bits uint32) []string {
	var names []string
	for _, b := range throttledBits {
		if bits&(1<<b.bit) != 0 {
			names = append(names, b.name)
		}
	}
	return names
}

// Disk is the free and total bytes of the file system that holds path.
func Disk(path string) (free, size uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("reading the free space of %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// Route is the machine's default route.
type Route struct {
	Interface string
	Gateway   net.IP
}

// DefaultRoute reads the IPv4 default route from /proc/net/route; false
// when there is none.
func (r Reader) DefaultRoute() (Route, bool) {
	if r.Root == nil {
		return Route{}, false
	}
	f, err := r.Root.Open("proc/net/route")
	if err != nil {
		return Route{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[1] != "00000000" || fields[7] != "00000000" {
			continue
		}
		gw, err := strconv.ParseUint(fields[2], 16, 32)
		if err != nil {
			continue
		}
		ip := make(net.IP, 4)
		binary.LittleEndian.PutUint32(ip, uint32(gw)) // the kernel writes it in host order
		return Route{Interface: fields[0], Gateway: ip}, true
	}
	return Route{}, false
}

// AddressTowardsURL is AddressTowards the host of a server's URL, on
// its port or its scheme's.
func AddressTowardsURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("finding the route to %s: %w", server, err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return AddressTowards(net.JoinHostPort(u.Hostname(), port))
}

// AddressTowards is the local address this machine reaches addr
// (host:port) from: the route's source address. No packet is sent.
func AddressTowards(addr string) (string, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return "", fmt.Errorf("finding the route to %s: %w", addr, err)
	}
	defer c.Close()
	host, _, err := net.SplitHostPort(c.LocalAddr().String())
	if err != nil {
		return "", err
	}
	return host, nil
}

// SoundCard is one ALSA card.
type SoundCard struct {
	Index int
	Name  string
}

// SoundCards lists the ALSA cards from /proc/asound/cards.
func (r Reader) SoundCards() []SoundCard {
	var cards []SoundCard
	for line := range strings.Lines(r.text("proc/asound/cards")) {
		// " 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones"
		idx, rest, ok := strings.Cut(strings.TrimSpace(line), " ")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil {
			continue
		}
		name := rest
		if _, after, ok := strings.Cut(rest, " - "); ok {
			name = after
		}
		cards = append(cards, SoundCard{Index: n, Name: strings.TrimSpace(name)})
	}
	return cards
}
