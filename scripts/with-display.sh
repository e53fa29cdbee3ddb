#!/usr/bin/env bash
# Runs a command with an X display: the one in $DISPLAY if it answers,
# otherwise a private Xvfb server that lives as long as the command.
# Xvfb picks a free display number itself (-displayfd): xvfb-run -a
# guesses one, and two runs started together on one machine can both take
# it, so one's windows open on (or are refused by) the other's server.
# -noreset: an X server otherwise starts over each time its last client
# leaves, refusing whoever connects meanwhile (a test's next window).
set -euo pipefail
if [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; then
  exec "$@"
fi
fifo=$(mktemp -u)
mkfifo "$fifo"
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$fifo" 2>/dev/null &
xvfb=$!
read -r number <"$fifo"
rm -f "$fifo"
trap 'kill $xvfb 2>/dev/null; wait $xvfb 2>/dev/null' EXIT
export DISPLAY=":$number"
status=0
"$@" || status=$?
exit $status
