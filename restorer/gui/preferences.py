"""What the window remembers between sessions: the last folder used and the recent files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 8


class Preferences:
    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                               "Restorer", "Restorer")

    def last_folder(self) -> str:
        folder = str(self._settings.value("last_folder", "") or "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def remember_folder(self, path: str | Path) -> None:
        path = Path(path)
        self._settings.setValue("last_folder", str(path if path.is_dir() else path.parent))

    def recent_files(self) -> list[str]:
        value = self._settings.value("recent_files", []) or []
        files = [value] if isinstance(value, str) else list(value)
        return [f for f in files if Path(f).exists()]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path))
        files = [path] + [f for f in self.recent_files() if f != path]
        self._settings.setValue("recent_files", files[:MAX_RECENT])
        self.remember_folder(path)

    def clear_recent(self) -> None:
        self._settings.setValue("recent_files", [])
