#!/usr/bin/env bash
# Regenerates the default voice packs (audio/voicepacks/<lang>/) from
# espeak-ng: one trimmed, normalised 16 kHz clip per word and a manifest.json.
# The packs are committed, so devices never need espeak; run this only after
# changing a language's vocabulary (audio/language.go, audio/numerals.go) or
# the voices (audio/internal/genpacks). Usage: scripts/gen-voicepacks.sh [LANG,...]
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "gen-voicepacks: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done
langs="${1:-pl,en,lt,ru,uk}"
go run ./audio/internal/genpacks -out audio/voicepacks -langs "$langs"
du -sh audio/voicepacks
