"""Every committed strategy version, kept in the state directory: the boot names the version.

    versions/blobs/<sha256>     one module's source bytes, content-addressed
    versions/versions.json      the kept versions, newest last, with the running and last good one

A restart runs the version that was running, or the last good one when that
version was failing or still in probation when the process died; the strategies
directory on disk is only a candidate (loaded by a reload, on the first start, or
when asked for at start). The last `keep` versions are kept; a blob no kept
version names is deleted.

An entry's `state` says how it ended: `probation` (running, not yet proven),
`running` (running, proven), `replaced` (a reload swapped it out), `rolled_back`
(an operator's rollback left it), `failed` (rolled back by itself, or it took
the engine down).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.background_fsync import BackgroundFsync
from engine.contract.fileio import atomic_write_bytes, ensure_state_dir, model_json, read_model
from engine.contract.models import utc_now_iso

VersionState = Literal["probation", "running", "replaced", "rolled_back", "failed"]
VERSIONS_DIR = "versions"
MANIFEST = "versions.json"
DEFAULT_KEEP = 10
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
IN_SERVICE: tuple[VersionState, ...] = ("probation", "running")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StoredModule(_Model):
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class VersionEntry(_Model):
    version: str
    modules: list[StoredModule]
    loaded_at: str
    state: VersionState = "probation"
    ended_at: str | None = None
    reason: str | None = None  # why it ended (the failure, the rollback), when it did
    proven: bool = False  # it once passed its probation: a rollback target


class Manifest(_Model):
    max_bytes: ClassVar[int] = MAX_MANIFEST_BYTES  # read_model's size limit
    running: str | None = None
    last_good: str | None = None
    clean_stop: bool | None = None  # False while an engine runs; True once it stopped cleanly
    # Candidates whose loading never let go (the process was abandoned): never loaded again.
    poisoned: dict[str, str] = Field(default_factory=dict)
    entries: list[VersionEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class BootChoice:
    version: str
    why: str


class VersionStoreError(RuntimeError):
    """The store cannot serve a version (not kept, or a blob missing or altered)."""


class VersionStore:
    """`background_sync`: each write's fsyncs run on a writer thread of the store's own (the engine's
    cycle loop must not wait on the disk); otherwise a write returns once it is durable."""

    def __init__(self, state_dir: Path, keep: int = DEFAULT_KEEP, *, background_sync: bool = False) -> None:
        if keep < 2:
            raise ValueError("keep at least 2 versions (the running one and a rollback target)")
        self.dir = ensure_state_dir(ensure_state_dir(Path(state_dir)) / VERSIONS_DIR)
        self.blobs = ensure_state_dir(self.dir / "blobs")
        self.keep = keep
        self._fsync = BackgroundFsync() if background_sync else None
        self.revision = 0  # +1 on every change: readers rebuild their view only then
        read = read_model(self.dir / MANIFEST, Manifest)
        self.manifest = read.value or Manifest()
        self.problem = None if read.value is not None or read.missing else f"{MANIFEST} unreadable ({read.reason}); starting a new history"

    # ------------------------------------------------------------------ queries

    @property
    def empty(self) -> bool:
        return not self.manifest.entries

    def entry(self, version: str) -> VersionEntry | None:
        for item in self.manifest.entries:
            if item.version == version:
                return item
        return None

    def entries(self) -> list[VersionEntry]:
        return list(self.manifest.entries)

    def boot_choice(self) -> BootChoice | None:
        """Which version a (re)start runs: None when nothing is stored yet."""
        running = self.entry(self.manifest.running) if self.manifest.running else None
        if running is not None and (running.state == "running" or (running.state == "probation" and self.manifest.clean_stop)):
            return BootChoice(running.version, f"{running.version} was running")
        good = self.entry(self.manifest.last_good) if self.manifest.last_good else None
        if running is not None and good is not None and good.version != running.version:
            how = f"{running.version} had failed" if running.state == "failed" else f"{running.version} was {running.state} when the engine stopped"
            return BootChoice(good.version, f"{how}; back to the last good {good.version}")
        if running is not None:
            return BootChoice(running.version, f"{running.version} was {running.state} and no other version ever ran well")
        if good is not None:
            return BootChoice(good.version, f"last good version {good.version}")
        return None

    def sources(self, version: str) -> list[tuple[str, bytes]]:
        """(module name, source bytes) in dependency order, each checked against its hash."""
        entry = self.entry(version)
        if entry is None:
            kept = ", ".join(e.version for e in self.manifest.entries) or "none"
            raise VersionStoreError(f"version {version} is not kept (kept: {kept}); see `foresight ctl versions`")
        out = []
        for module in entry.modules:
            try:
                data = (self.blobs / module.sha256).read_bytes()
            except OSError as exc:
                raise VersionStoreError(f"version {version}: source of {module.name} is missing ({exc.strerror or exc})") from exc
            if hashlib.sha256(data).hexdigest() != module.sha256:
                raise VersionStoreError(f"version {version}: source of {module.name} does not match its hash")
            out.append((module.name, data))
        return out

    # ---------------------------------------------------------------- changes

    def commit(self, version: str, modules: Sequence[tuple[str, str, bytes]], *, proven: bool = False) -> None:
        """`version` (modules as (name, sha256, source)) runs now, in probation unless `proven`.

        The version it replaces ends `replaced` (unless it already ended otherwise)."""
        for _name, sha, source in modules:
            blob = self.blobs / sha
            if not blob.exists():
                self._write(blob, source)
        now = utc_now_iso()
        self._end_running("replaced", None, now, except_version=version)
        entry = self.entry(version)
        if entry is None:
            entry = VersionEntry(version=version, modules=[StoredModule(name=n, sha256=s) for n, s, _ in modules], loaded_at=now)
        else:
            self.manifest.entries.remove(entry)  # newest last: it moves to the end
            entry.loaded_at, entry.ended_at, entry.reason = now, None, None
        entry.proven = entry.proven or proven
        entry.state = "running" if proven else "probation"
        self.manifest.entries.append(entry)
        self.manifest.running = version
        if proven:
            self.manifest.last_good = version
        self._prune()
        self.save()

    def mark_good(self, version: str) -> None:
        """`version` passed its probation: it is the last good version now."""
        entry = self.entry(version)
        if entry is None or (entry.state == "running" and self.manifest.last_good == version):
            return
        if entry.state == "probation":
            entry.state = "running"
        entry.proven = True
        self.manifest.last_good = version
        self.save()

    def mark_failed(self, version: str, reason: str) -> None:
        """`version` failed (live, or took the engine down): never booted again by itself."""
        entry = self.entry(version)
        if entry is None:
            return
        entry.state, entry.ended_at, entry.reason = "failed", utc_now_iso(), reason[:500]
        if self.manifest.last_good == version:
            self.manifest.last_good = self._previous_good(version)
        self.save()

    def left_by_rollback(self, version: str, reason: str) -> None:
        entry = self.entry(version)
        if entry is not None and entry.state in (*IN_SERVICE, "replaced"):
            entry.state, entry.ended_at, entry.reason = "rolled_back", utc_now_iso(), reason[:500]
            self.save()

    def died_in_probation(self) -> str | None:
        """At start: the running version was in probation when the process died. Marks it
        failed and returns it (None when it was not)."""
        running = self.entry(self.manifest.running) if self.manifest.running else None
        if running is None or running.state != "probation":
            return None
        good = self.manifest.last_good
        if good is None or good == running.version:
            return None
        self.mark_failed(running.version, "the engine stopped while this version was in probation")
        return running.version

    def poison(self, version: str, reason: str) -> None:
        """`version`'s loading hung the engine past every interrupt: refuse it from now on."""
        self.manifest.poisoned[version] = f"{utc_now_iso()}: {reason}"[:500]
        while len(self.manifest.poisoned) > 50:
            self.manifest.poisoned.pop(next(iter(self.manifest.poisoned)))
        self.save()

    def mark_started(self) -> None:
        self.manifest.clean_stop = False
        self.save()

    def mark_stopped(self) -> None:
        self.manifest.clean_stop = True
        self.save()

    # ---------------------------------------------------------------- internals

    def _end_running(self, state: VersionState, reason: str | None, now: str, except_version: str) -> None:
        running = self.entry(self.manifest.running) if self.manifest.running else None
        if running is not None and running.version != except_version and running.state in IN_SERVICE:
            running.state, running.ended_at, running.reason = state, now, reason

    def _previous_good(self, failed: str) -> str | None:
        for entry in reversed(self.manifest.entries):
            if entry.version != failed and entry.proven and entry.state != "failed":
                return entry.version
        return None

    def _prune(self) -> None:
        protected = {self.manifest.running, self.manifest.last_good}
        entries = self.manifest.entries
        while len(entries) > self.keep:
            victim = next((e for e in entries if e.version not in protected), None)
            if victim is None:
                break
            entries.remove(victim)
        wanted = {m.sha256 for e in entries for m in e.modules}
        for blob in self.blobs.iterdir():
            if blob.name not in wanted and not blob.name.startswith("."):
                try:
                    blob.unlink()
                except OSError:
                    pass

    def save(self) -> None:
        """Write the manifest as it is in memory (again, after a write that failed)."""
        self.revision += 1
        self._write(self.dir / MANIFEST, model_json(self.manifest))

    def _write(self, path: Path, data: bytes) -> None:
        atomic_write_bytes(path, data, sync_later=self._fsync)  # durable at once without a writer thread

    def sync_errors(self) -> list[OSError]:
        """The background fsyncs that failed since the last call."""
        return self._fsync.errors() if self._fsync is not None else []

    def drain(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the background fsyncs asked so far; True when all ran."""
        return self._fsync.drain(timeout_s) if self._fsync is not None else True


def module_triples(modules: Iterable[object]) -> list[tuple[str, str, bytes]]:
    """(name, sha256, source) of a CodeVersion's modules."""
    return [(m.name, m.sha256, m.source) for m in modules]  # type: ignore[attr-defined]

