package packages

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/officeconfig"
)

// testVersion is the version the tests build with (VERSION=): not git's,
// so finding it in the packages and the binaries shows it was passed on.
const testVersion = "1.2.3+test.1"

// repoRoot is the repository, seen from this package's folder.
const repoRoot = "../.."

// pkgSpec is what one package must be.
type pkgSpec struct {
	name string
	arch string
	// depends are entries its Depends must have, as written there.
	depends []string
	// conffiles are its conffiles, all of them.
	conffiles []string
	// files are paths it must hold, with their permissions.
	files map[string]os.FileMode
	// binaries are paths of programs in it built for arch.
	binaries []string
}

func serverSpec(arch string) pkgSpec {
	return pkgSpec{
		name:      "numerek-server",
		arch:      arch,
		depends:   []string{"systemd | systemd-standalone-sysusers | systemd-sysusers"},
		conffiles: []string{"/etc/numerek/offices.toml"},
		files: map[string]os.FileMode{
			"usr/bin/queue-server":                                    0o755,
			"lib/systemd/system/queue-server.service":                 0o644,
			"usr/lib/sysusers.d/numerek-server.conf":                  0o644,
			"usr/lib/tmpfiles.d/numerek-server.conf":                  0o644,
			"etc/numerek/offices.toml":                                0o644,
			"usr/share/doc/numerek-server/copyright":                  0o644,
			"usr/share/doc/numerek-server/examples/starachowice.toml": 0o644,
		},
		binaries: []string{"usr/bin/queue-server"},
	}
}

func kioskdSpec(arch string) pkgSpec {
	return pkgSpec{
		name: "numerek-kioskd",
		arch: arch,
		depends: []string{"xserver-xorg-core", "xserver-xorg-input-libinput", "libgl1-mesa-dri", "libegl1",
			"libgl1", "libx11-6", "libxi6", "libasound2", "alsa-utils", "polkitd",
			"systemd | systemd-standalone-sysusers | systemd-sysusers"},
		conffiles: []string{"/etc/numerek/kioskd.toml"},
		files: map[string]os.FileMode{
			"usr/bin/kioskd":                                            0o755,
			"usr/bin/kioskctl":                                          0o755,
			"lib/systemd/system/kioskd.service":                         0o644,
			"lib/systemd/system/numerek-x.service":                      0o644,
			"lib/udev/rules.d/60-numerek-printer.rules":                 0o644,
			"lib/udev/rules.d/61-numerek-gpio.rules":                    0o644,
			"usr/share/polkit-1/rules.d/50-numerek-kioskd-reboot.rules": 0o644,
			"usr/lib/sysusers.d/numerek-kioskd.conf":                    0o644,
			"usr/lib/tmpfiles.d/numerek-kioskd.conf":                    0o644,
			"etc/numerek/kioskd.toml":                                   0o644,
			"usr/share/doc/numerek-kioskd/copyright":                    0o644,
		},
		binaries: []string{"usr/bin/kioskd", "usr/bin/kioskctl"},
	}
}

// TestPackages builds the packages as `make deb` does, checks each, and
// installs numerek-server into a fresh Debian. One test builds once for
// all: the build is most of its time.
func TestPackages(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not installed: the packages are Debian's, built and read on Debian")
	}
	out := t.TempDir()
	debs := buildDebs(t, out)
	specs := []pkgSpec{serverSpec("amd64"), serverSpec("arm64"), kioskdSpec("amd64"), kioskdSpec("arm64")}
	for _, spec := range specs {
		deb := fmt.Sprintf("%s/%s_%s_%s.deb", out, spec.name, testVersion, spec.arch)
		if !slices.Contains(debs, deb) {
			t.Fatalf("the build did not say it made %s; it made %q", deb, debs)
		}
		t.Run(spec.name+"_"+spec.arch, func(t *testing.T) { checkDeb(t, deb, spec) })
	}
	// These two take a while each: side by side.
	t.Run("lintian", func(t *testing.T) {
		t.Parallel()
		checkLintian(t, out)
	})
	t.Run("installed on bookworm", func(t *testing.T) {
		t.Parallel()
		installServer(t, fmt.Sprintf("%s/numerek-server_%s_amd64.deb", out, testVersion),
			fmt.Sprintf("%s/numerek-kioskd_%s_amd64.deb", out, testVersion))
	})
}

// buildDebs runs scripts/deb.sh into out and returns the packages it
// says it made.
func buildDebs(t *testing.T, out string) []string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts/deb.sh"))
	cmd.Env = append(os.Environ(), "OUT="+out, "VERSION="+testVersion)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("building the packages: %v\n%s", err, stderr.String())
	}
	t.Logf("built the packages in %s", time.Since(start).Round(time.Second))
	return strings.Fields(string(stdout))
}

func checkDeb(t *testing.T, deb string, spec pkgSpec) {
	fields := debFields(t, deb, "Package", "Version", "Architecture", "Depends", "Maintainer", "Description")
	for key, want := range map[string]string{"Package": spec.name, "Version": testVersion, "Architecture": spec.arch} {
		if fields[key] != want {
			t.Errorf("%s is %q, want %q", key, fields[key], want)
		}
	}
	depends := strings.Split(fields["Depends"], ",")
	for i := range depends {
		depends[i] = strings.TrimSpace(depends[i])
	}
	for _, d := range spec.depends {
		if !slices.Contains(depends, d) {
			t.Errorf("Depends %q lacks %q", fields["Depends"], d)
		}
	}

	conffiles := strings.Fields(run(t, "dpkg-deb", "--info", deb, "conffiles"))
	if !slices.Equal(conffiles, spec.conffiles) {
		t.Errorf("conffiles are %q, want %q", conffiles, spec.conffiles)
	}

	tree := t.TempDir()
	run(t, "dpkg-deb", "--extract", deb, tree)
	for path, mode := range spec.files {
		info, err := os.Stat(filepath.Join(tree, path))
		if err != nil {
			t.Errorf("the package has no /%s: %v", path, err)
			continue
		}
		if info.Mode().Perm() != mode {
			t.Errorf("/%s has mode %v, want %v", path, info.Mode().Perm(), mode)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "--contents", deb)), "\n") {
		if f := strings.Fields(line); len(f) < 2 || f[1] != "root/root" {
			t.Errorf("not owned by root/root: %s", line)
		}
	}
	for _, bin := range spec.binaries {
		checkBinary(t, filepath.Join(tree, bin), spec.arch)
	}
	switch spec.name {
	case "numerek-server":
		checkOffices(t, filepath.Join(tree, "etc/numerek/offices.toml"))
	case "numerek-kioskd":
		checkKioskdConfig(t, filepath.Join(tree, "etc/numerek/kioskd.toml"))
	}
}

// checkLintian runs lintian, Debian's package checker, on the amd64
// packages (the arm64 ones differ only in their programs): an error or
// warning it finds fails, but for the few accepted here.
func checkLintian(t *testing.T, out string) {
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Skip("lintian is not installed (scripts/install-deps.sh installs it)")
	}
	debs, err := filepath.Glob(filepath.Join(out, "*_amd64.deb"))
	if err != nil || len(debs) == 0 {
		t.Fatalf("no amd64 packages in %s: %v", out, err)
	}
	// The warnings these packages get and keep, each for its reason
	// (what is intended and explained in the package itself is in its
	// lintian overrides: numerek-server.lintian-overrides).
	accepted := map[string]string{
		// The programs have --help and docs/*.md, no manual pages yet.
		"no-manual-page": "no manual pages yet",
	}
	tags := slices.Sorted(maps.Keys(accepted))
	args := append([]string{"--fail-on", "error,warning", "--suppress-tags", strings.Join(tags, ",")}, debs...)
	cmd := exec.Command("lintian", args...)
	report, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("lintian finds what is wrong with the packages: %v\n%s", err, report)
	}
}

// checkBinary checks that path is a program for arch that knows the
// package's version: run when it is this machine's, looked for otherwise.
func checkBinary(t *testing.T, path, arch string) {
	f, err := elf.Open(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	machine := f.Machine
	f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if machine != want {
		t.Errorf("%s is built for %v, want %v", filepath.Base(path), machine, want)
	}
	name := filepath.Base(path)
	if name == "kioskctl" {
		return // kioskctl has no --version
	}
	if arch == "amd64" {
		got := strings.TrimSpace(run(t, path, "--version"))
		if want := name + " " + testVersion; got != want {
			t.Errorf("%s --version says %q, want %q", name, got, want)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(testVersion)) {
		t.Errorf("%s does not hold the version %s", name, testVersion)
	}
}

// checkOffices checks that the packaged offices start a server: the
// server reads them with officeconfig.Load.
func checkOffices(t *testing.T, path string) {
	cfg, err := officeconfig.Load(path)
	if err != nil {
		t.Errorf("the packaged /etc/numerek/offices.toml does not load: %v", err)
		return
	}
	if len(cfg.Offices) != 1 {
		t.Errorf("the packaged offices.toml has %d offices, want one to start from", len(cfg.Offices))
	}
}

// checkKioskdConfig checks that the packaged kioskd.toml is the example
// of a device that pairs (examples/devices/paired.toml), read as kioskd
// reads it: a server address, no office, no token.
func checkKioskdConfig(t *testing.T, path string) {
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(repoRoot, "examples/devices/paired.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the packaged kioskd.toml is not examples/devices/paired.toml")
	}
	local, err := config.ReadLocal(path)
	if err != nil {
		t.Errorf("kioskd cannot read the packaged kioskd.toml: %v", err)
		return
	}
	if local.ByHand {
		t.Errorf("the packaged kioskd.toml is read as set by hand, want a device that pairs")
	}
}

// installServer installs numerek-server with apt into a fresh Debian
// bookworm (minbase, mmdebstrap), as an admin would, and runs what its
// unit runs; then numerek-kioskd's scripts in the same system.
func installServer(t *testing.T, deb, kioskdDeb string) {
	if os.Geteuid() != 0 {
		t.Skip("mmdebstrap makes the Debian to install into as root (--mode=root); run as root")
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap is not installed (scripts/install-deps.sh installs it)")
	}
	cache := filepath.Join(cacheDir(t), "apt-bookworm-amd64")
	for _, d := range []string{"archives", "lists"} {
		if err := os.MkdirAll(filepath.Join(cache, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(t.TempDir(), "root")
	base := filepath.Base(deb)
	start := time.Now()
	// The downloaded packages and package lists are kept in cache between
	// runs (sync-in before apt's first use, sync-out after the install):
	// a second run downloads nothing that has not changed.
	cmd := exec.Command("mmdebstrap", "--variant=minbase", "--mode=root", "--quiet",
		"--skip=download/empty", "--skip=essential/unlink", "--skip=cleanup/apt/lists",
		`--setup-hook=mkdir -p "$1"/var/cache/apt/archives "$1"/var/lib/apt/lists`,
		"--setup-hook=sync-in "+cache+"/archives /var/cache/apt/archives",
		"--setup-hook=sync-in "+cache+"/lists /var/lib/apt/lists",
		"--customize-hook=copy-in "+deb+" /root",
		// What the README tells an admin: apt install ./numerek-server_….deb
		`--customize-hook=chroot "$1" sh -c 'cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y ./`+base+`'`,
		"--customize-hook=sync-out /var/cache/apt/archives "+cache+"/archives",
		"--customize-hook=sync-out /var/lib/apt/lists "+cache+"/lists",
		"bookworm", root, "http://deb.debian.org/debian")
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mmdebstrap with numerek-server installed: %v\n%s", err, output)
	}
	t.Logf("bookworm with numerek-server installed in %s", time.Since(start).Round(time.Second))
	if !strings.Contains(string(output), "queue-server is enabled but not started") {
		t.Errorf("the install did not tell the admin what to do next:\n%s", output)
	}

	passwd := strings.Split(strings.TrimSpace(chroot(t, root, "getent", "passwd", "numerek")), ":")
	if len(passwd) != 7 || passwd[5] != "/var/lib/numerek" || !strings.HasSuffix(passwd[6], "nologin") {
		t.Fatalf("user numerek is %q, want a system user at home in /var/lib/numerek without a shell", passwd)
	}
	uid, _ := strconv.Atoi(passwd[2])
	if uid == 0 || uid >= 1000 {
		t.Errorf("user numerek has uid %d, want a system user's", uid)
	}
	if got := strings.TrimSpace(chroot(t, root, "systemctl", "is-enabled", "queue-server.service")); got != "enabled" {
		t.Errorf("queue-server.service is %q, want enabled", got)
	}
	if got := strings.TrimSpace(chroot(t, root, "queue-server", "--version")); got != "queue-server "+testVersion {
		t.Errorf("the installed queue-server --version says %q", got)
	}
	data, err := os.Stat(filepath.Join(root, "var/lib/numerek"))
	if err != nil {
		t.Fatalf("the install made no /var/lib/numerek: %v", err)
	}
	if owner := data.Sys().(*syscall.Stat_t).Uid; owner != uint32(uid) || data.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/numerek is uid %d mode %v, want numerek's (%d), 0700", owner, data.Mode().Perm(), uid)
	}

	runUnit(t, root, uid)
	reinstallAndPurge(t, root, "/root/"+base)
	installKioskd(t, root, kioskdDeb)
}

// installKioskd installs numerek-kioskd by dpkg without what it depends
// on (Xorg and Mesa: the SD image's test runs it on them), for what its
// scripts make: the user kioskd in its groups, its state folder, its
// units enabled.
func installKioskd(t *testing.T, root, deb string) {
	in := filepath.Join("/root", filepath.Base(deb))
	if err := os.WriteFile(filepath.Join(root, in), readFile(t, deb), 0o644); err != nil {
		t.Fatal(err)
	}
	// With /proc, as on a running system (systemd-tmpfiles needs it).
	out := run(t, "unshare", "--mount", "--fork", "sh", "-c", `mount -t proc proc "$0/proc" && exec chroot "$0" "$@"`,
		root, "dpkg", "--force-depends", "--install", in)
	if !strings.Contains(out, "kioskd and its X server are enabled but not started") {
		t.Errorf("the install did not tell the technician what to do next:\n%s", out)
	}
	groups := strings.Fields(chroot(t, root, "id", "--name", "--groups", "kioskd"))
	slices.Sort(groups)
	if want := []string{"audio", "dialout", "gpio", "kioskd", "lp", "video"}; !slices.Equal(groups, want) {
		t.Errorf("user kioskd is in groups %q, want %q", groups, want)
	}
	passwd := strings.Split(strings.TrimSpace(chroot(t, root, "getent", "passwd", "kioskd")), ":")
	if len(passwd) != 7 || passwd[5] != "/var/lib/kioskd" {
		t.Errorf("user kioskd is %q, want one at home in /var/lib/kioskd", passwd)
	}
	for _, unit := range []string{"kioskd.service", "numerek-x.service"} {
		if got := strings.TrimSpace(chroot(t, root, "systemctl", "is-enabled", unit)); got != "enabled" {
			t.Errorf("%s is %q, want enabled", unit, got)
		}
	}
	state, err := os.Stat(filepath.Join(root, "var/lib/kioskd"))
	if err != nil {
		t.Fatalf("the install made no /var/lib/kioskd: %v", err)
	}
	uid, _ := strconv.Atoi(passwd[2])
	if owner := state.Sys().(*syscall.Stat_t).Uid; owner != uint32(uid) || state.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/kioskd is uid %d mode %v, want kioskd's (%d), 0700", owner, state.Mode().Perm(), uid)
	}
	if got := strings.TrimSpace(chroot(t, root, "kioskd", "--version")); got != "kioskd "+testVersion {
		t.Errorf("the installed kioskd --version says %q", got)
	}
}

// reinstallAndPurge reinstalls the package over itself (the upgrade's
// path), then removes and purges it, as an admin would with dpkg.
func reinstallAndPurge(t *testing.T, root, deb string) {
	offices := filepath.Join(root, "etc/numerek/offices.toml")
	edited := append(readFile(t, offices), "\n# edited by the admin\n"...)
	if err := os.WriteFile(offices, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	out := chroot(t, root, "dpkg", "--install", deb)
	if strings.Contains(out, "enabled but not started") {
		t.Errorf("a reinstall tells what to do after a first install:\n%s", out)
	}
	if !bytes.Equal(readFile(t, offices), edited) {
		t.Errorf("a reinstall did not keep the admin's offices.toml")
	}
	if got := strings.TrimSpace(chroot(t, root, "systemctl", "is-enabled", "queue-server.service")); got != "enabled" {
		t.Errorf("after a reinstall queue-server.service is %q, want enabled", got)
	}

	chroot(t, root, "dpkg", "--purge", "numerek-server")
	for _, gone := range []string{"usr/bin/queue-server", "lib/systemd/system/queue-server.service",
		"etc/numerek/offices.toml", "etc/systemd/system/multi-user.target.wants/queue-server.service",
		"etc/systemd/system/queue-server.service"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); err == nil {
			t.Errorf("/%s is left after a purge", gone)
		}
	}
	// The offices' event logs are the office's, not the package's.
	if _, err := os.Stat(filepath.Join(root, "var/lib/numerek/offices/office.db")); err != nil {
		t.Errorf("a purge lost the office's data: %v", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// runUnit starts what queue-server.service starts, as its user, in the
// installed system (chroot: it shares this machine's network), on a free
// port of the loopback instead of :8080, waits for /healthz, and stops it.
func runUnit(t *testing.T, root string, uid int) {
	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/queue-server.service"))
	if err != nil {
		t.Fatal(err)
	}
	execStart, user := unitValue(string(unit), "ExecStart"), unitValue(string(unit), "User")
	if execStart == "" || user != "numerek" {
		t.Fatalf("queue-server.service has ExecStart=%q User=%q", execStart, user)
	}
	addr := freeAddr(t)
	// A later --listen wins over the unit's :8080.
	args := append([]string{root, "setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"},
		append(strings.Fields(execStart), "--listen", addr)...)
	server := exec.Command("chroot", args...)
	var log bytes.Buffer
	server.Stdout, server.Stderr = &log, &log
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// As systemd stops it: SIGTERM, and a clean exit.
		if err := server.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("stopping queue-server: %v", err)
		}
		if err := server.Wait(); err != nil {
			t.Errorf("queue-server did not stop cleanly on SIGTERM: %v\n%s", err, log.String())
		}
	}
	t.Cleanup(stop)

	var health struct {
		Status  string `json:"status"`
		Offices int    `json:"offices"`
	}
	var lastErr error
	answered := waitfor.Within(20*time.Second, func() bool {
		lastErr = getHealth("http://"+addr+"/healthz", &health)
		return lastErr == nil
	})
	if !answered {
		t.Fatalf("the installed queue-server does not answer: %v\n%s", lastErr, log.String())
	}
	if health.Status != "ok" || health.Offices != 1 {
		t.Errorf("/healthz says %+v, want ok with the packaged office", health)
	}
	db, err := os.Stat(filepath.Join(root, "var/lib/numerek/offices/office.db"))
	if err != nil {
		t.Fatalf("the server keeps no office log where the unit says: %v\n%s", err, log.String())
	}
	if owner := db.Sys().(*syscall.Stat_t).Uid; owner != uint32(uid) {
		t.Errorf("the office log is uid %d's, want numerek's (%d): the server did not run as numerek", owner, uid)
	}
	stop()
}

// getHealth reads the server's /healthz into health.
func getHealth(url string, health any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(health)
}

// unitValue is a unit file's value of key (the last, as systemd takes).
func unitValue(unit, key string) string {
	var value string
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			value = v
		}
	}
	return value
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// cacheDir is where downloads are kept between runs.
func cacheDir(t *testing.T) string {
	if d := os.Getenv("NUMEREK_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("no NUMEREK_CACHE and no home for the download cache: %v", err)
	}
	return filepath.Join(home, ".cache", "numerek")
}

// debFields reads control fields of a package.
func debFields(t *testing.T, deb string, names ...string) map[string]string {
	fields := map[string]string{}
	for _, name := range names {
		fields[name] = strings.TrimSpace(run(t, "dpkg-deb", "--field", deb, name))
	}
	return fields
}

func chroot(t *testing.T, root string, args ...string) string {
	return run(t, "chroot", append([]string{root}, args...)...)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}
