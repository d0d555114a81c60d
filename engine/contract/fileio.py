"""Atomic writes and defensive reads: every file of the state directory goes through here.

A writer never leaves a torn file (temp file in the same directory, fsync,
`os.replace`); a reader never crashes on what it finds (missing, empty,
oversized, malformed, unknown version) and always says why it refused.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from engine import failpoints
from engine.contract.models import MAX_FILE_BYTES
from engine.contract.paths import not_a_directory

FILE_MODE = 0o600
DIR_MODE = 0o700

M = TypeVar("M", bound=BaseModel)


def ensure_state_dir(path: Path) -> Path:
    """Create the state directory private to its user (0700), like ~/.ssh."""
    if (problem := not_a_directory(path)) is not None:
        raise problem
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(PermissionError):
        os.chmod(path, DIR_MODE)
    return path


class UnsafeFile(OSError):
    """A file of the state directory that is not to be used: a link, not a regular file, not ours."""


def open_private(path: Path, flags: int, *, owned: bool = True) -> int:
    """`os.open` for a file of the state directory: never through a symbolic link (O_NOFOLLOW),
    and checked on the opened descriptor, not the path, so nothing can be swapped in between:
    a regular file (O_NONBLOCK: a FIFO planted there cannot hang the open), with `owned` this
    user's, and, when opened for writing in place, with no other hard link. Created FILE_MODE."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(
                errno.ELOOP,
                f"{path.name} is a symbolic link; refused (nothing in the state directory is followed: remove the link)",
                str(path),
            ) from None
        raise
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = f"{path.name} is not a regular file; refused (remove it)"
    elif info.st_nlink > 1 and flags & (os.O_WRONLY | os.O_RDWR):
        problem = f"{path.name} has {info.st_nlink - 1} other hard link(s); refused (remove it)"
    elif owned and info.st_uid != os.geteuid():
        problem = f"{path.name} is owned by uid {info.st_uid}, not uid {os.geteuid()}; refused (remove it)"
    if problem is not None:
        os.close(fd)
        raise UnsafeFile(errno.EPERM, problem, str(path))
    return fd


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(
    path: Path, data: bytes, *, durable: bool = True, sync_later: Callable[[Path], None] | None = None
) -> None:
    """Write `data` to `path` so that a reader sees either the old file or the new one.

    `durable` also fsyncs the file and its directory, so the new content survives a
    power cut (control and state need it; status is rewritten every cycle anyway).
    `sync_later` instead hands those two fsyncs to the caller's own (a writer thread):
    the new content survives a crash of the process at once, a power cut once they ran.
    """
    if sync_later is not None:
        os.close(_replace_with(path, data, durable=False, preallocate=False))
        sync_later(path)
        sync_later(path.parent)
        return
    os.close(_replace_with(path, data, durable=durable))
    if durable:
        fsync_dir(path.parent)


def atomic_replace_open(path: Path, data: bytes, temp: tuple[int, str] | None = None) -> int:
    """`atomic_write_bytes(path, data, durable=False)`, returning the new file's descriptor, still
    open: while it is, the version a later replace unlinks is not freed by that replace but when
    the caller closes it (see engine/status_file.py). `temp`: a `new_temp(path)` made earlier,
    used (and given up) instead of creating one now."""
    return _replace_with(path, data, durable=False, temp=temp)


def new_temp(path: Path) -> tuple[int, str]:
    """An empty temp file beside `path` (its descriptor and name), for a replace of `path`."""
    # mkstemp creates the file 0600 (FILE_MODE) already, whatever the umask.
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def _replace_with(
    path: Path, data: bytes, *, durable: bool, preallocate: bool = True, temp: tuple[int, str] | None = None
) -> int:
    """`data` in a temp file beside `path`, put in its place; the temp file's descriptor, open."""
    fd, tmp = temp if temp is not None else new_temp(path)
    try:
        try:
            if not durable and preallocate and data:
                # Blocks allocated up front: ext4 then has no delayed allocation to force out
                # when the rename replaces the old file (auto_da_alloc), which costs CPU and a
                # wall-time tail for every status.json written. After
                # a power cut (not a crash) the file may read as zeros instead: what readers
                # refuse with a reason, and only for a file that is not fsync'd anyway.
                with contextlib.suppress(OSError):
                    os.posix_fallocate(fd, 0, len(data))
            write_all(fd, data)
            if durable:
                os.fsync(fd)
            if failpoints.ENABLED:
                failpoints.before_replace(path)
            os.replace(tmp, path)
        except BaseException:
            os.close(fd)
            raise
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return fd


def write_all(fd: int, data: bytes) -> None:
    """All of `data` to `fd`, however many writes that takes (an error if one writes nothing)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(f"short write: {len(view)} bytes not written")
        view = view[written:]


def with_member(json_object: bytes, key: str, value: bytes) -> bytes:
    """A serialised JSON object (not empty) with one more member, `key` holding the already
    serialised `value`, put last: what was serialised apart (or not at all) joins it unparsed."""
    return json_object[:-1] + b',"' + key.encode() + b'":' + value + b"}"


def model_json(model: BaseModel, **options: Any) -> bytes:
    """`model.model_dump_json(**options).encode()` without the round trip through str:
    pydantic serialises to bytes and decodes them, and the caller would encode them again
    (for status.json, a megabyte at a thousand slots)."""
    return model.__pydantic_serializer__.to_json(model, **options)


def atomic_write_model(path: Path, model: BaseModel, *, durable: bool = True) -> None:
    atomic_write_bytes(path, model_json(model, by_alias=True), durable=durable)


def clean_temp_files(directory: Path) -> list[Path]:
    """Remove `.NAME.*.tmp` leftovers of writers that died between write and replace."""
    removed = []
    for leftover in directory.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(leftover)
    return removed


@dataclass(frozen=True)
class ReadResult(Generic[M]):
    """A defensive read: either `value` or a human `reason` it was refused."""

    value: M | None
    reason: str | None
    missing: bool = False
    data: bytes = field(default=b"", repr=False)  # the bytes `value` was read from (b"" without a value)

    @property
    def ok(self) -> bool:
        return self.value is not None


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """Which version of the file is there (inode, mtime, size), or None when none is: an atomic
    rewrite changes the inode, so two equal stamps mean the same bytes to a poller."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def read_fd(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes of an open file, from where it stands."""
    chunks = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def untrusted(info: os.stat_result, name: str) -> str | None:
    """Why a file of intent may not be acted on, or None. Like ssh's StrictModes: intent must
    come from this user, through a file only it can write."""
    if info.st_uid != os.geteuid():
        return f"{name} is owned by uid {info.st_uid}, not the engine's uid {os.geteuid()}; refused"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{name} is writable by group or others (mode {stat.S_IMODE(info.st_mode):o}); refused, chmod 600 it"
    return None


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES, *, trusted: bool = False) -> tuple[bytes | None, str | None]:
    """`path`'s bytes, or why not. `trusted` also refuses a file `untrusted` names, checked on
    the descriptor the bytes are read from, never on the path."""
    try:
        fd = open_private(path, os.O_RDONLY, owned=False)
    except FileNotFoundError:
        return None, f"{path.name} does not exist"
    except UnsafeFile as exc:
        return None, str(exc.strerror)
    except OSError as exc:
        return None, f"{path.name} cannot be read: {exc.strerror or exc}"
    try:
        if trusted and (problem := untrusted(os.fstat(fd), path.name)) is not None:
            return None, problem
        data = read_fd(fd, limit + 1)
    except OSError as exc:
        return None, f"{path.name} cannot be read: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(data) > limit:
        return None, f"{path.name} is larger than {limit // 1024} KiB; refused"
    if not data.strip():
        return None, f"{path.name} is empty"
    return data, None


def describe_validation_error(exc: ValidationError, name: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "(top level)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if first.get("type") == "json_invalid":
        return f"{name} is not valid JSON: {first.get('ctx', {}).get('error', first['msg'])}"
    return f"{name}: {where}: {first['msg']}{more}"


def read_model(path: Path, model: type[M], limit: int | None = None, *, trusted: bool = False) -> ReadResult[M]:
    """`path` parsed and validated as `model`, or why not. Larger than `limit` (by default the
    model's `max_bytes`, else MAX_FILE_BYTES) is refused unread; `trusted` as in `read_bytes`."""
    data, reason = read_bytes(path, limit if limit is not None else getattr(model, "max_bytes", MAX_FILE_BYTES), trusted=trusted)
    if data is None:
        return ReadResult(None, reason, missing=not os.path.lexists(path))
    try:
        return ReadResult(model.model_validate_json(data), None, data=data)
    except ValidationError as exc:
        return ReadResult(None, describe_validation_error(exc, path.name))


@contextlib.contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[int]:
    """An exclusive `flock` on `path` (created 0600), released on exit or process death."""
    fd = open_private(path, os.O_RDWR | os.O_CREAT, owned=False)
    try:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        fcntl.flock(fd, flags)
        yield fd
    finally:
        os.close(fd)
