#!/usr/bin/env bash
# README command 2: set up, then run the test suite (headless; no display or GPU needed).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/installer/setup.sh" || exit 1
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
status=$?
if [ "$status" = 5 ]; then
    echo "run-tests: pytest collected no tests, which means the suite is broken." >&2
    exit 1
fi
exit "$status"
