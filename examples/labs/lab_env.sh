# Sourced by every lab's run.sh: where the inca binary is ($INCA, else the
# release build of this checkout) and where the lab writes (its first
# argument, else ./lab-out/<lab>).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INCA="${INCA:-$ROOT/build/bin/inca}"
LAB="$(basename "$(cd "$(dirname "$0")" && pwd)")"
OUT="${1:-lab-out/$LAB}"
mkdir -p "$OUT"
if [ ! -x "$INCA" ]; then
  echo "$LAB: $INCA is missing; build it first: scripts/setup.sh release inca_cli" >&2
  exit 2
fi
