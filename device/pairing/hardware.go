package pairing

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/numerek/numerek/protocol"
)

// ReadHardware says what the machine is, as far as it can tell: a
// Raspberry Pi's model and serial from the device tree (or the serial
// from /proc/cpuinfo), the host name and the first network card's MAC.
// What cannot be read is left empty. root is "/" but in tests.
func ReadHardware(root string) protocol.Hardware {
	var hw protocol.Hardware
	hw.Model = readText(filepath.Join(root, "proc/device-tree/model"))
	hw.Serial = readText(filepath.Join(root, "proc/device-tree/serial-number"))
	if hw.Serial == "" {
		if f, err := os.Open(filepath.Join(root, "proc/cpuinfo")); err == nil {
			hw.Serial = CPUInfoSerial(f)
			f.Close()
		}
	}
	hw.Hostname, _ = os.Hostname()
	hw.MAC = firstMAC()
	return hw
}

// readText reads a small text file of the device tree (NUL-terminated).
func readText(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) > 256 {
		return ""
	}
	return strings.TrimSpace(strings.Trim(string(data), "\x00"))
}

// CPUInfoSerial is the value of the "Serial" line of /proc/cpuinfo on a
// Raspberry Pi; "" when there is none.
func CPUInfoSerial(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "Serial" {
			v := strings.TrimSpace(value)
			if len(v) > 64 {
				return ""
			}
			return v
		}
	}
	return ""
}

// firstMAC is the hardware address of the first network card that is up
// and not the loopback.
func firstMAC() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 && i.Flags&net.FlagUp != 0 && len(i.HardwareAddr) > 0 {
			return i.HardwareAddr.String()
		}
	}
	return ""
}
