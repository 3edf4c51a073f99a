"""Which weights a result came from: a model's id and the SHA-256 of the file it was loaded from.

Provenance records these in every output. Bundled weights have their SHA-256
in the catalog; Real-ESRGAN x4plus is identified by the ncnn weights file the
registry package ships; a user's own checkpoint by its file, hashed once per
(path, size, modification time).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

_lock = threading.Lock()
_file_hashes: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, remembered while it is unchanged; "" when it cannot be read."""
    from restorer.models.store import sha256_of

    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return ""
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key not in _file_hashes:
            _file_hashes[key] = sha256_of(path)
        return _file_hashes[key]


@lru_cache(maxsize=None)
def model_sha256(model_id: str) -> str:
    """SHA-256 of a catalogued model's weights as installed ("" when unknown)."""
    from restorer.models.catalog import CATALOG

    entry = CATALOG.get(model_id)
    if entry is None:
        return ""
    if entry.sha256:
        return entry.sha256
    if model_id == "realesrgan-x4plus":
        from restorer.models.packaged import x4plus_ncnn_files

        try:
            return file_sha256(x4plus_ncnn_files()[1])
        except Exception:  # the package is missing: the run itself reports that
            return ""
    return ""
