"""Where Restorer keeps things on the user's machine (XDG on Linux)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Per-user cache folder; RESTORER_CACHE overrides it (tests use this)."""
    if override := os.environ.get("RESTORER_CACHE"):
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "restorer"


def bundled_weights_dir() -> Path:
    """weights/ of the source tree or of the installed package's data."""
    for candidate in (REPO_ROOT / "weights", Path(sys.prefix) / "share" / "restorer" / "weights"):
        if candidate.is_dir():
            return candidate
    return REPO_ROOT / "weights"


def resources_dir() -> Path:
    """resources/ (icons, presets, examples)."""
    for candidate in (REPO_ROOT / "resources", Path(sys.prefix) / "share" / "restorer" / "resources"):
        if candidate.is_dir():
            return candidate
    return REPO_ROOT / "resources"
