"""Locate, download and verify weights files. Torch-free.

Downloads go to the user's cache (`<cache>/models/`), into a `.part` file
that a later call resumes with an HTTP Range request; only a file whose
SHA-256 matches the catalog is renamed into place, so a half-downloaded or
tampered checkpoint is never loaded.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from restorer.errors import ModelUnavailable
from restorer.models.catalog import CATALOG, ModelEntry
from restorer.paths import cache_dir

ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, total or None)
_CHUNK = 1 << 16


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def models_dir() -> Path:
    return cache_dir() / "models"


def cached_path(entry: ModelEntry) -> Path:
    return models_dir() / entry.filename


def is_installed(entry: ModelEntry) -> bool:
    path = cached_path(entry)
    return path.is_file() and (not entry.sha256 or sha256_of(path) == entry.sha256)


def download(url: str, target: Path, sha256: str, *, progress: ProgressCallback | None = None,
             timeout: float = 30.0) -> Path:
    """Fetch `url` to `target`, resuming a previous partial download, and verify its SHA-256.

    Raises ModelUnavailable with one sentence on network errors or a checksum mismatch
    (the bad file is deleted; a network error keeps the partial file for the next try).
    """
    target = Path(target)
    if target.is_file() and sha256_of(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "Restorer"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:
                have = 0  # the server ignored the range: start again
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            with part.open("ab" if have else "wb") as out:
                done = have
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total is not None and done < total:
                # The connection closed early without an error: keep the part for a resume.
                raise ConnectionError(f"connection closed after {done} of {total} bytes")
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # asked past the end: the part file is complete (or wrong)
            pass
        else:
            raise ModelUnavailable(f"Downloading {target.name} failed (HTTP {exc.code}); try again later.") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelUnavailable(
            f"Downloading {target.name} failed ({reason}); run the command again to resume where it stopped."
        ) from None
    actual = sha256_of(part)
    if actual != sha256:
        part.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"{target.name} was downloaded but its SHA-256 ({actual[:12]}…) is not the expected one "
            f"({sha256[:12]}…); it was deleted and will not be used."
        )
    part.replace(target)
    return target


def fetch(model_id: str, *, progress: ProgressCallback | None = None) -> Path:
    """Ensure a catalog model with a URL is in the cache; return its path."""
    entry = CATALOG.get(model_id)
    if entry is None:
        raise ModelUnavailable(f"There is no model called {model_id!r}; `restorer models` lists them.")
    if entry.source != "url":
        raise ModelUnavailable(f"{entry.title} ships with Restorer and needs no download.")
    return download(entry.url, cached_path(entry), entry.sha256, progress=progress)
