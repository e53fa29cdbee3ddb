#!/usr/bin/env bash
# make demo: the whole system on embedded defaults. The queue server runs
# the example office (Starachowice, seed 000) with a test clock set to a
# time the office is open; three kioskd devices follow it, each in its own
# window: the ticket kiosk (its printer is the emulator, writing a PNG per
# ticket), the hall display (calls said on the default sound device, if
# there is one) and the display of counter 1. Without a graphical display
# the windows open in a private Xvfb and their pictures are written to
# files. Prints where to look and how to call; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

data=${DEMO_DATA:-demo-data}
port=${DEMO_PORT:-8080}
bin=bin
mkdir -p "$data/devices" "$data/tickets" "$data/screens"
abs=$(cd "$data" && pwd)
server_url="http://127.0.0.1:$port"
office=cus-starachowice

token() { # name, then queue-server token flags
  local name=$1; shift
  if [ ! -s "$data/$name.token" ]; then
    "$bin/queue-server" token --data "$data/server" --office "$office" "$@" >"$data/$name.token" 2>/dev/null
    chmod 600 "$data/$name.token"
  fi
  cat "$data/$name.token"
}
kiosk=$(token kiosk --role ticket --label kiosk)
hall=$(token hall --role hall --label hall)
counter=$(token counter1 --role counter --counter 1 --label counter-1)
admin=$(token admin --role admin --label demo-admin)

# A staff account for the clerk console, the assistant's page and the
# statistics: an office manager, with a password made for this demo.
if [ ! -s "$data/staff.password" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 16 >"$data/staff.password")
  "$bin/queue-server" clerk --data "$data/server" --name kierownik --office "$office" --role admin \
    <"$data/staff.password" >/dev/null 2>&1
fi
staff_password=$(cat "$data/staff.password")

pids=()
xvfb=""
stopping=""
stop() {
  trap - EXIT INT TERM
  stopping=1
  echo
  echo "demo: stopping" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # The private X server goes last, so no window loses its display early.
  if [ -n "$xvfb" ]; then
    kill -TERM "$xvfb" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$xvfb" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
  fi
}
trap stop EXIT INT TERM

# Without an X display, a private Xvfb of our own, in its own session so
# that Ctrl-C reaches it only through stop().
headless=""
if ! { [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; }; then
  headless=1
  rm -f "$data/xvfb.display"
  setsid Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$data/xvfb.display" 2>"$data/xvfb.log" &
  xvfb=$!
  for _ in $(seq 1 100); do
    [ -s "$data/xvfb.display" ] && break
    sleep 0.05
  done
  [ -s "$data/xvfb.display" ] || { echo "demo: Xvfb did not start; see $data/xvfb.log" >&2; exit 1; }
  export DISPLAY=":$(tr -d '[:space:]' <"$data/xvfb.display")"
fi

"$bin/queue-server" --data "$data/server" --listen "127.0.0.1:$port" --clock open \
  --public-url "http://localhost:$port" 2>"$data/server.log" &
pids+=($!)
for _ in $(seq 1 50); do
  curl -sf "$server_url/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$server_url/healthz" >/dev/null || { echo "demo: the queue server did not start; see $data/server.log" >&2; exit 1; }

# One configuration per device, written and checked by kioskctl.
device() { # name, status port, then device-config flags
  local name=$1 status=$2; shift 2
  "$bin/kioskctl" device-config --name "$name" --data "$abs/devices/$name" \
    --server "$server_url" --office "$office" --token-file "$abs/$name.token" \
    --windowed --status "127.0.0.1:$status" --out "$data/devices/$name.toml" "$@" 2>/dev/null
}
device kiosk 7071 --role ticket --window-scale 0.5 --printer "emulator://$abs/tickets" --pin 2407
device hall 7072 --role hall --window-scale 0.5 --message "Godziny przyjęć: pon.–pt. 7:30–15:30"
device counter1 7073 --role counter --counter 1 --window-scale 0.75

for name in kiosk hall counter1; do
  "$bin/kioskd" --config "$data/devices/$name.toml" --frames "$abs/screens" 2>"$data/$name.log" &
  pids+=($!)
done
for status in 7071 7072 7073; do
  for _ in $(seq 1 100); do
    curl -sf "127.0.0.1:$status/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
done

# Side by side rather than stacked in the middle of the screen.
if command -v xdotool >/dev/null; then
  for w in "numerek-kiosk 0 0" "numerek-hall 960 0" "numerek-counter1 0 560"; do
    set -- $w
    for _ in $(seq 1 50); do
      id=$(xdotool search --onlyvisible --name "^$1\$" 2>/dev/null | head -1) && [ -n "$id" ] && break
      sleep 0.1
    done
    [ -n "${id:-}" ] && xdotool windowmove "$id" "$2" "$3" 2>/dev/null || true
  done
fi

api="$server_url/api/v1/offices/$office"
where="in their own windows"
[ -n "$headless" ] && where="in a private Xvfb (no display here): see their pictures in $data/screens/"
cat <<TXT

Numerek demo: the queue server runs at $server_url with the example office
"$office"; its clock is set to a time the office is open. Three devices
follow it $where:

  ticket kiosk   window numerek-kiosk    tap a service: tickets print as PNGs into $data/tickets/
  hall display   window numerek-hall     shows and says each call (default sound device, if any)
  counter 1      window numerek-counter1 the number called to counter 1

  pictures of the screens, redrawn on every change: $data/screens/{kiosk,hall,counter1}.png
  web pages for residents (book, e-ticket):          http://localhost:$port/
  staff pages (console, assistant, statistics):      http://localhost:$port/staff
                                 log in as kierownik, password $staff_password
  device status pages:  curl 127.0.0.1:7071/status   (kiosk; hall 7072, counter 7073)
  logs:                 $data/*.log

Call the next resident to counter 1 (in another terminal):

  curl -s -X POST -H "Authorization: Bearer $counter" $api/counters/1/open
  curl -s -X POST -H "Authorization: Bearer $counter" $api/counters/1/next

Tap the kiosk from the command line (a resident choosing Ukrainian, then
family benefits; "tap --list" names every target on its screen now):

  DISPLAY=$DISPLAY bin/kioskctl tap --status 127.0.0.1:7071 lang:uk
  DISPLAY=$DISPLAY bin/kioskctl tap --status 127.0.0.1:7071 service:family

Take a ticket as the hall assistant would (not printed):

  curl -s -H "Authorization: Bearer $admin" -d '{"service":"family","lang":"uk","channel":"assistant"}' $api/tickets

The kiosk's journal: bin/kioskctl journal --data $data/devices/kiosk (with the demo stopped).
Ctrl-C stops the demo.
TXT
wait -n "${pids[@]}" || true
[ -n "$stopping" ] || echo "demo: a process ended early; see $data/*.log" >&2
