#!/usr/bin/env bash
# Set up Restorer in ./.venv: system libraries Qt/OpenCV need (if missing), then the package.
# Safe to run again: it only installs what is missing. Used by run-example.sh and run-tests.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"

say() { printf '\033[1m[restorer setup]\033[0m %s\n' "$*" >&2; }

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "Restorer needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.11."
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment in .venv"
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.restorer-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing Restorer and its dependencies (torch CPU build; see README for CUDA)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,engines]" 2>&1 \
        | grep -v -E "^WARNING: Location .* is ignored" || true
    "$VENV/bin/python" -c "import restorer, torch, PySide6, cv2" && touch "$stamp"
fi

# Qt and OpenCV load a few system libraries. Check by importing, install only what is missing.
missing_libs() {
    QT_QPA_PLATFORM=offscreen "$VENV/bin/python" - <<'PY' 2>&1
import ctypes.util, sys
try:
    import cv2  # noqa: F401
    from PySide6.QtWidgets import QApplication
    QApplication(["probe"])
except Exception as exc:  # report, the shell decides
    print(f"missing: {exc}")
    sys.exit(1)
PY
}
if ! missing_libs >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "installing the system libraries Qt needs (apt-get)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgl1 libegl1 libxkbcommon0 libfontconfig1 \
            libglib2.0-0 libdbus-1-3 >/dev/null
    else
        say "Qt cannot start: $(missing_libs). Install libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 with your package manager."
        exit 1
    fi
fi
