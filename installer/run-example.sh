#!/usr/bin/env bash
# README command 1: set up, then restore the shipped example photo into ./out/.
# With a display and no arguments after --gui, `restorer` opens the window instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/installer/setup.sh"
cd "$ROOT"
if [ "${1:-}" = "--gui" ]; then
    exec .venv/bin/restorer gui resources/examples/astronaut_faded.jpg
fi
.venv/bin/restorer run resources/examples/astronaut_faded.jpg -o out --verbose
echo "Restored photo written to $ROOT/out/ (open it next to resources/examples/astronaut_faded.jpg)."
