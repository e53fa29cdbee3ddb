#!/usr/bin/env bash
# Runs every test of the module. The packages whose tests open windows and
# click into them with xdotool share one X server, where one package's
# window could cover another's; they run one after another. The rest run in
# parallel first.
set -euo pipefail
cd "$(dirname "$0")/.."
timeout=${TEST_TIMEOUT:-18m}
window_patterns=(./display/... ./cmd/kioskd/...)

mapfile -t windowed < <(go list "${window_patterns[@]}")
mapfile -t rest < <(go list ./... | grep -vxF -f <(printf '%s\n' "${windowed[@]}"))

status=0
go test -timeout "$timeout" -count=1 "${rest[@]}" || status=$?
go test -timeout "$timeout" -count=1 -p 1 "${windowed[@]}" || status=$?

# A short chaos run (make chaos runs the long one): the real programs
# killed and cut off, after the windowed tests, since it taps windows too.
# Every figure must hold: a figure over its limit fails the run.
go run ./cmd/numerek-chaos --short || status=$?
exit $status
