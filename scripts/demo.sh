#!/usr/bin/env bash
# make demo: the queue server with the example office (Starachowice, seed
# 000) on embedded defaults, with a test clock set to a time the office is
# open, and tokens for a kiosk, counter 1 and an admin. Prints how to issue
# and call tickets; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

data=${DEMO_DATA:-demo-data}
port=${DEMO_PORT:-8080}
bin=bin
mkdir -p "$data"

token() { # name, then queue-server token flags
  local name=$1; shift
  if [ ! -s "$data/$name.token" ]; then
    "$bin/queue-server" token --data "$data/server" --office cus-starachowice "$@" >"$data/$name.token" 2>/dev/null
  fi
  cat "$data/$name.token"
}
kiosk=$(token kiosk --role ticket --label demo-kiosk)
counter=$(token counter1 --role counter --counter 1 --label demo-counter-1)
admin=$(token admin --role admin --label demo-admin)

"$bin/queue-server" --data "$data/server" --listen "127.0.0.1:$port" --clock open &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "demo: the queue server did not start" >&2; exit 1; }

api="http://127.0.0.1:$port/api/v1/offices/cus-starachowice"
cat <<TXT

Numerek demo: the queue server runs at http://127.0.0.1:$port with the example
office "cus-starachowice" (data in $data/). Its clock is set to a time the
office is open (see the TEST CLOCK line above).

Tokens (also in $data/*.token):
  kiosk      $kiosk
  counter 1  $counter
  admin      $admin

Try it (in another terminal):

  # the office now: services, waits, counters
  curl -s -H "Authorization: Bearer $kiosk" $api/state

  # a resident takes a ticket for family benefits, in Ukrainian
  curl -s -H "Authorization: Bearer $kiosk" -d '{"service":"family","lang":"uk","request_id":"demo-1"}' $api/tickets

  # the clerk at counter 1 opens the counter and calls the next resident
  curl -s -X POST -H "Authorization: Bearer $counter" $api/counters/1/open
  curl -s -X POST -H "Authorization: Bearer $counter" $api/counters/1/next

  # watch every change live (as the hall display does)
  curl -sN -H "Authorization: Bearer $kiosk" $api/events

The API is described in docs/api.md. Ctrl-C stops the demo.
TXT
wait $server
