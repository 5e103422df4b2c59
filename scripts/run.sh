#!/usr/bin/env bash
# Sets everything up (packages, configure, build) and runs the main job: the
# bandwidth-doubling benchmark on the default simulated fabric (64 ranks,
# leaf-spine, 100 Gb/s links, 8 B .. 64 MiB). Extra arguments go to `inca bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
exec build/bin/inca bench "$@"
