#!/usr/bin/env bash
# Runs a command with an X display: the one in $DISPLAY if it answers,
# otherwise a private Xvfb server that lives as long as the command.
set -euo pipefail
if [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; then
  exec "$@"
fi
exec xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" "$@"
