"""Which strategy files changed on disk since the running code was loaded (no Textual here)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from engine.contract.models import MAX_FILE_BYTES, Status


@dataclass(frozen=True)
class FileChange:
    module: str
    path: str
    change: str  # "modified", "deleted", "unreadable"


def sha256_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(16 * MAX_FILE_BYTES)
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest()


def strategies_dir(status: Status | None) -> Path | None:
    """The directory the engine loads strategies from, as the status tells it."""
    if status is None:
        return None
    if status.engine.strategies_path:
        return Path(status.engine.strategies_path)
    for module in status.code.modules:
        if module.path:
            return Path(module.path).parent
    return None


def module_path(status: Status, raw: str, name: str) -> Path | None:
    base = strategies_dir(status)
    if raw:
        path = Path(raw)
        return path if path.is_absolute() or base is None else base / path
    if base is None:
        return None
    return base / f"{name.rsplit('.', 1)[-1]}.py"


def changed_files(status: Status | None) -> list[FileChange]:
    """Modules whose file on disk no longer hashes to what the engine runs."""
    if status is None:
        return []
    changes = []
    for module in status.code.modules:
        path = module_path(status, module.path, module.name)
        if path is None:
            continue
        if not path.exists():
            changes.append(FileChange(module.name, str(path), "deleted"))
            continue
        digest = sha256_file(path)
        if digest is None:
            changes.append(FileChange(module.name, str(path), "unreadable"))
        elif digest != module.sha256:
            changes.append(FileChange(module.name, str(path), "modified"))
    return changes
