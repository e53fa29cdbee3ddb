#!/usr/bin/env bash
# Runs every test of the module. Most of a test's time is waiting (for a
# process to start, a printer's pace, a stall to be noticed), not CPU, so
# many packages run at once (TEST_JOBS), and beside them a short chaos run
# (make chaos runs the long one): the real programs killed and cut off,
# their windows tapped on the X server of $DISPLAY, the server on bbolt
# and then on a PostgreSQL the run starts. Every figure must
# hold: a figure over its limit fails the run. The tests that open windows
# give each window an X server of its own (displaytest.Run, and
# needDisplay in cmd/kioskd), so none clicks into another's.
set -euo pipefail
cd "$(dirname "$0")/.."
timeout=${TEST_TIMEOUT:-18m}
# Five at once: a package's tests hold their place until they end, and the
# four longest (started first, below) hold four places for 40 s to two
# minutes while half their time is waiting; the fifth keeps building and
# running the other packages meanwhile.
jobs=${TEST_JOBS:-5}

# Compiled as the packages ship (no cgo, -trimpath, PIE; make test sets
# the same for go vet and staticcheck), so the tests, the programs they
# start and the packages TestPackages builds share one compile.
export CGO_ENABLED=${CGO_ENABLED:-0}
export GOFLAGS=${GOFLAGS:--trimpath -buildmode=pie}

# Linking the 44 test binaries and the programs is about a fifth of the
# run's CPU; leaving out their DWARF debugging information (-w), which no
# test reads, takes 15 % off that (go test -c of all: 46 to 40 CPU-s).
build_flags=(-ldflags=-w)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
started=$SECONDS
# The programs the tests and the chaos run start, built once for all.
export NUMEREK_TEST_BIN="$out/bin"
go build "${build_flags[@]}" -o "$NUMEREK_TEST_BIN/" ./cmd/queue-server ./cmd/kioskd ./cmd/kioskctl

# The chaos run's output is shown after the tests', whole, also when it
# fails (under set -e a failing command would end the subshell before it
# wrote its status, and this script before it showed the output).
(
  s=0
  go run "${build_flags[@]}" ./cmd/numerek-chaos --short --bin "$NUMEREK_TEST_BIN" >"$out/chaos" 2>&1 || s=$?
  echo $s >"$out/chaos.status"
) &
chaos=$!

# go test starts the packages' tests in the order it is given them. The
# packages whose tests run longest (real programs, windows, a browser, a
# serial line's pace) go first: started in alphabetical order, the web
# pages' tests began when most others were done and ran on alone at the
# end, a minute on a machine with a core idle. A package named here that
# no longer exists fails the run, so the list cannot go stale unseen.
longest=(./cmd/kioskd ./display ./server/web ./printer ./cmd/queue-server)

status=0
# go vet has run over everything before (make test): go test does not
# again. TEST_EXEC wraps each package's test binary, e.g. with
# '/usr/bin/time -a -o /tmp/cpu.txt -f %e_%U_%S_%C' to see what each
# package costs in CPU.
go test "${build_flags[@]}" ${TEST_EXEC:+-exec "$TEST_EXEC"} -vet=off -timeout "$timeout" -count=1 -p "$jobs" "${longest[@]}" ./... || status=$?
wait $chaos || true
cat "$out/chaos"
s=$(cat "$out/chaos.status")
[ "$s" = 0 ] || status=$s
echo "tests and the chaos run took $((SECONDS - started)) s"
exit $status
