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
# --expect-fail lists the figures known to fail on today's code, each
# until the fix of its cause lands (issue 9): phantom (5, a slow server),
# retry (1, a retried request after the day changed), unsaid (6, a hall
# restarted mid-backlog), stale (7, a silently dead stream). Take a figure
# off the list when the run says it holds.
go run ./cmd/numerek-chaos --short --expect-fail phantom,retry,unsaid,stale || status=$?
exit $status
