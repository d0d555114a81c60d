"""Hot reload of the strategy modules: prepare, check, commit or change nothing, keep the old.

The cycle loop calls this library between cycles only (see docs/hot-reload.md):

    manager = ReloadManager(strategies_dir)
    manager.load_initial()                      # raises StrategyLoadError
    ... every cycle: manager.registry.evaluate(view, params) ...
    outcome = manager.reload() / check() / rollback()
    outcome = manager.report_cycle(errors)      # after each cycle: auto rollback in probation

Every call returns a `ReloadOutcome` that says what happened, ready for
events.jsonl and status.json; `code_status()` gives status.json's `code`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, overload

from pydantic import BaseModel

from engine.collector import held
from engine.contract.models import CodeFailure, CodeStatus, KeptVersion, LastReload, ModuleInfo, utc_now_iso
from engine.reload.api_check import check_api
from engine.reload.code_version import ENTRY_MODULE, CodeVersion, LoadedModule, changed_modules, first_line
from engine.reload.disk_candidate import DiskCandidate
from engine.reload.guard import Budgets, StrategyGuard, StrategyTimeout
from engine.reload.module_loader import (
    PACKAGE,
    CodeCache,
    ImportGuard,
    ModuleTransaction,
    SharedModules,
    SourceFile,
    StrategyLoadError,
    compile_sources,
    execute,
    install,
    load_error,
    read_sources,
    reusable_prefix,
    shared_change,
    version_of,
)
from engine.reload.process_snapshot import ProcessSnapshot
from engine.reload.registry import StrategyRegistry
from engine.reload.smoke import SmokeReport, run_smoke, snapshot
from engine.reload.version_store import VersionStore, VersionStoreError
from engine.strategy_api.market_view import MarketView

__all__ = [
    "DEFAULT_SCOPE",
    "CodeVersion",
    "LoadedModule",
    "Preparation",
    "ReloadManager",
    "ReloadOutcome",
    "StrategyLoadError",
    "StrategyRegistry",
]

DEFAULT_SCOPE = ("ta_engine", "momentum_strategy", "strategy")
OutcomeKind = Literal["initial", "reload", "check", "rollback", "auto_rollback", "promote"]
_ENGINE_SIDE = ("engine", "foresight_tui")


@dataclass(frozen=True)
class ReloadOutcome:
    """What one load, check, reload or rollback did. Immutable, reportable as is."""

    ok: bool
    kind: OutcomeKind
    at: str  # ISO 8601 UTC, when it finished
    duration_ms: float  # the pause: start of prepare to end of commit (or of the check)
    changed: tuple[str, ...]  # modules whose source differs from the code that ran before
    error: str | None  # "file:line: message" when not ok
    version: str  # the version running after this outcome
    candidate: str | None = None  # the version that was tried (check/reload/initial), if it could be read
    previous_version: str | None = None  # the version kept for rollback after this outcome
    swapped: bool = False  # the running code changed: params must be re-validated against the new model
    error_file: str | None = None
    error_line: int | None = None
    phase: str | None = None  # which step refused: read, compile, import, api, smoke, probation
    smoke: SmokeReport | None = field(default=None, repr=False)
    # Where the pause went, in ms: read, compile, execute, check, smoke, commit.
    phases: dict[str, float] = field(default_factory=dict, repr=False, compare=False)
    # Modules this load executed again (or was to, when it failed before): the first changed
    # one and everything after it in dependency order. The others kept their module objects.
    executed: tuple[str, ...] = ()
    # Preparation done ahead, between cycles (`ReloadManager.prepare`), in ms: not part of
    # the pause. None when this call prepared the code itself.
    prepared_ms: float | None = None

    @property
    def ack_result(self) -> str:
        """The control ack this outcome stands for: applied, rejected or rolled_back."""
        if self.kind == "auto_rollback":
            return "rolled_back"
        return "applied" if self.ok else "rejected"

    @property
    def detail(self) -> str:
        """One line for an ack or an event."""
        changed = ", ".join(self.changed) if self.changed else "nothing"
        if self.kind == "auto_rollback":
            return f"rolled back to {self.version}: {self.error}"
        if not self.ok:
            return f"{self.kind} refused, {self.version} keeps running: {self.error}"
        ahead = f", prepared in {self.prepared_ms:.1f} ms between cycles" if self.prepared_ms is not None else ""
        if self.kind == "check":
            return f"{self.candidate} would load and passes its checks; changed: {changed} ({self.duration_ms:.1f} ms{ahead})"
        if not self.swapped:
            return f"no change on disk, {self.version} keeps running"
        return f"now running {self.version}; changed: {changed} ({self.duration_ms:.1f} ms pause{ahead})"

    def last_reload(self) -> LastReload:
        return LastReload(
            ok=self.ok,
            kind=self.kind,
            at=self.at,
            duration_ms=round(self.duration_ms, 3),
            changed=list(self.changed),
            error=self.error,
            prepared_ms=None if self.prepared_ms is None else round(self.prepared_ms, 3),
        )

    def to_event(self) -> dict[str, Any]:
        """JSON-ready detail for events.jsonl."""
        event: dict[str, Any] = {
            "ok": self.ok,
            "kind": self.kind,
            "at": self.at,
            "duration_ms": round(self.duration_ms, 3),
            "changed": list(self.changed),
            "error": self.error,
            "version": self.version,
            "candidate": self.candidate,
            "previous_version": self.previous_version,
            "swapped": self.swapped,
        }
        if self.error is not None:
            event.update(error_file=self.error_file, error_line=self.error_line, phase=self.phase)
        if self.executed:
            event["executed"] = list(self.executed)
        if self.prepared_ms is not None:
            event["prepared_ms"] = round(self.prepared_ms, 3)
        if self.phases:
            event["phases_ms"] = {k: round(v, 3) for k, v in self.phases.items()}
        if self.smoke is not None:
            event["smoke"] = {
                "evaluations": self.smoke.evaluations,
                "decisions": self.smoke.decisions,
                "entries": self.smoke.entries,
                "elapsed_ms": round(self.smoke.elapsed_ms, 3),
            }
        return event


class ReloadManager:
    """Owns the strategy code: loads it, checks it, swaps it, keeps the old version."""

    def __init__(
        self,
        strategies_dir: Path,
        scope: tuple[str, ...] = DEFAULT_SCOPE,
        *,
        probation_cycles: int = 3,
        smoke_views: Sequence[MarketView] | None = None,
        history: int = 50,
        hold_gc: bool = True,
        budgets: Budgets | None = None,
        guard: StrategyGuard | None = None,
        store: VersionStore | None = None,
        failure_window: int = 20,
        failure_limit: int = 10,
    ) -> None:
        self.strategies_dir = Path(strategies_dir).expanduser().resolve()
        self.scope = _checked_scope(scope, self.strategies_dir)
        self.budgets = budgets or Budgets()
        if probation_cycles < 0:
            raise ValueError("probation_cycles must be >= 0")
        self.probation_cycles = int(probation_cycles)
        self.smoke_views = tuple(smoke_views) if smoke_views is not None else snapshot()
        self.guard = guard or StrategyGuard(self.budgets.grace_s)
        self.registry = StrategyRegistry(self.guard, self.budgets)
        self.reloads = 0  # code swaps after the initial load: reloads, rollbacks, auto rollbacks
        self.last_outcome: ReloadOutcome | None = None
        self.history: deque[ReloadOutcome] = deque(maxlen=history)
        self._probation_left = 0
        self.store = store
        # After probation: a version failing in `failure_limit` of the last `failure_window`
        # cycles rolls back by itself too.
        self.failure_limit = int(failure_limit)
        self._window: deque[bool] = deque(maxlen=int(failure_window))
        self.proven: str | None = None  # set by report_cycle when a version passes its probation
        self.last_failure: VersionFailure | None = None
        self._guard = ImportGuard(self.scope)
        self._codes = CodeCache()
        self.hold_gc = bool(hold_gc)
        self._staged: Preparation | None = None
        self.store_error: str | None = None
        self._store_ops: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
        self.boot: str | None = None  # why the engine started on the version it runs (the engine sets it)
        self.loading: str | None = None  # the candidate whose code is being loaded, while it is
        self.disk = DiskCandidate(self.strategies_dir, self.scope)
        self._kept_view: tuple[int, list[KeptVersion]] = (-1, [])
        self.checked: Preparation | None = None  # the last check that passed: a preview or a shadow uses it

    # ------------------------------------------------------------------ queries

    @property
    def probation_left(self) -> int:
        """Cycles after the last swap in which a strategy error still rolls back by itself."""
        return self._probation_left

    def code_status(self) -> CodeStatus:
        current = self.registry.current
        previous = self.registry.previous
        disk = self.disk.version()
        failure = self.last_failure
        return CodeStatus(
            version=current.version,
            modules=[
                ModuleInfo(name=m.name, path=str(m.path), sha256=m.sha256, loaded_at=m.loaded_at) for m in current
            ],
            reloads=self.reloads,
            last_reload=self.last_outcome.last_reload() if self.last_outcome else None,
            previous_version=previous.version if previous else None,
            last_good_version=self.store.manifest.last_good if self.store is not None else None,
            probation_left=self._probation_left,
            boot=self.boot,
            disk_version=disk,
            disk_differs=disk is not None and disk != current.version,
            last_failure=None
            if failure is None
            else CodeFailure(
                version=failure.version,
                how=failure.how,
                error=failure.error,
                slots=list(failure.slots),
                at=failure.at,
                now_running=failure.now_running,
            ),
            versions=self._kept_versions(),
        )

    def _kept_versions(self) -> list[KeptVersion]:
        """The store's versions for status.json, rebuilt only when the store changed."""
        if self.store is None:
            return []
        if self._kept_view[0] != self.store.revision:
            self._kept_view = (
                self.store.revision,
                [
                    KeptVersion(
                        version=e.version,
                        loaded_at=e.loaded_at,
                        state=e.state,
                        ended_at=e.ended_at,
                        reason=e.reason,
                        modules=[ModuleInfo(name=m.name, sha256=m.sha256, loaded_at=e.loaded_at) for m in e.modules],
                    )
                    for e in self.store.entries()
                ],
            )
        return list(self._kept_view[1])

    # ---------------------------------------------------------------- commands

    def load_initial(self, sources: Sequence[SourceFile] | None = None, *, proven: bool = False) -> ReloadOutcome:
        """Load the code on disk at start (or `sources`, a stored version: see
        `stored_sources`). Raises `StrategyLoadError` if it does not load and pass.
        A `proven` version (one that ran well before) starts out of probation."""
        if self.registry.loaded:
            raise RuntimeError("strategy code is already loaded: use reload()")
        outcome, error = self._load("initial", commit=True, sources=sources, proven=proven)
        self.flush_store()
        if error is not None:
            error.outcome = outcome  # type: ignore[attr-defined]
            raise error
        return outcome

    def check(self, overrides: Mapping[str, Any] | None = None) -> ReloadOutcome:
        """Prepare and check the code on disk, then put everything back: nothing is swapped."""
        return self._load("check", commit=False, overrides=overrides)[0]

    def reload(self, overrides: Mapping[str, Any] | None = None) -> ReloadOutcome:
        """Swap in the code on disk if it loads and passes; otherwise change nothing.

        `overrides` (the operator's values in force) are optional: when they
        validate against the new Params, the smoke evaluation runs with them too.
        """
        if not self.registry.loaded:
            raise RuntimeError("no strategy code loaded yet: call load_initial() first")
        return self._load("reload", commit=True, overrides=overrides)[0]

    def prepare(self, overrides: Mapping[str, Any] | None = None) -> Preparation | None:
        """Do the costly part of the next `reload()`/`check()` now, while the loop is idle.

        Reads, compiles, executes, checks and smoke-tests the code on disk and keeps
        the result (a new version or the reason it fails) without swapping anything.
        The next `reload()` or `check()` with the same `overrides` uses it if the
        running version is still the one it was prepared against and the files
        still hash the same; otherwise it prepares again. Either way its outcome is
        what an inline preparation would have given. Returns None when the files
        cannot be read (the reload reads them again and reports why).
        """
        if not self.registry.loaded:
            raise RuntimeError("no strategy code loaded yet: call load_initial() first")
        with held(self.hold_gc):
            started = time.perf_counter()
            try:
                sources = read_sources(self.strategies_dir, self.scope)
            except StrategyLoadError:
                return None  # the reload will read again and report it
            prepared = self._prepare(sources, self.registry.current, overrides, _Phases(started))
            prepared.elapsed_ms = _ms(started)  # the read included
            self._staged = prepared
            return prepared

    def swap_if_prepared(
        self, kind: Literal["reload", "check"], overrides: Mapping[str, Any] | None = None
    ) -> ReloadOutcome | None:
        """`reload()` or `check()` if only the swap is left to do: a preparation made by
        `prepare()` still holds, or the files are those of the running code. Otherwise
        None, and nothing is recorded: prepare, then call again."""
        if not self.registry.loaded:
            raise RuntimeError("no strategy code loaded yet: call load_initial() first")
        outcome, _ = self._load(kind, commit=kind == "reload", overrides=overrides, inline=False)
        return outcome

    def rollback(self) -> ReloadOutcome:
        """Go back to the version kept in memory; the one running now becomes `previous`."""
        start = time.perf_counter()
        current = self.registry.current
        previous = self.registry.previous
        if previous is None:
            return self._record(
                ReloadOutcome(
                    ok=False,
                    kind="rollback",
                    at=utc_now_iso(),
                    duration_ms=_ms(start),
                    changed=(),
                    error="no previous version to roll back to",
                    version=current.version,
                    phase="rollback",
                )
            )
        self._swap_to(previous, keep=current)
        self._probation_left = 0
        if self.store is not None:
            self._later(self.store.left_by_rollback, current.version, f"an operator rolled back to {previous.version}")
            self._store_commit(previous, proven=True)
        return self._record(
            ReloadOutcome(
                ok=True,
                kind="rollback",
                at=utc_now_iso(),
                duration_ms=_ms(start),
                changed=changed_modules(current.shas(), previous.shas()),
                error=None,
                version=previous.version,
                candidate=previous.version,
                previous_version=current.version,
                swapped=True,
            )
        )

    def promote(self, prepared: Preparation) -> ReloadOutcome:
        """Swap in a candidate checked earlier (a shadow's): only the commit is left, so the pause
        is a reload's commit. Refused if the running version is no longer the one it was prepared against."""
        start = time.perf_counter()
        running = self.registry.current
        version = prepared.version
        if version is None or prepared.base is not running:
            return self._record(
                ReloadOutcome(
                    ok=False, kind="promote", at=utc_now_iso(), duration_ms=_ms(start), changed=(),
                    error="the candidate was prepared against other running code: shadow it again", version=running.version,
                    candidate=prepared.candidate, phase="promote",
                )
            )  # fmt: skip
        with held(self.hold_gc):
            self.checked = None
            install(version.package, version.module_objects())
            self.registry.swap(version, running)
            version.publish_source()
            self._window.clear()
            self.reloads += 1
            self._probation_left = self.probation_cycles
            duration = _ms(start)
        self._store_commit(version, proven=False)
        return self._record(
            ReloadOutcome(
                ok=True, kind="promote", at=utc_now_iso(), duration_ms=duration,
                changed=changed_modules(running.shas(), version.shas()), error=None, version=version.version,
                candidate=version.version, previous_version=running.version, swapped=True,
            )
        )  # fmt: skip

    def report_cycle(self, strategy_errors: Sequence[str], kinds: Sequence[str] = ()) -> ReloadOutcome | None:
        """Tell the manager how the last cycle went. In probation after a swap, any strategy
        error rolls back to the previous version; after it, failures in `failure_limit` of
        the last `failure_window` cycles do (kind `auto_rollback`). A version that gets
        through its probation is recorded as proven (`self.proven`, the store's last good)."""
        self.proven = None
        failing = bool(strategy_errors)
        self._window.append(failing)
        if self._probation_left > 0:
            if not failing:
                self._probation_left -= 1
                if self._probation_left == 0:
                    self.proven = self.registry.current.version
                    if self.store is not None:
                        self._later(self.store.mark_good, self.proven)
                return None
            self._probation_left = 0
            why = f"failed within {self.probation_cycles} cycles of its swap"
        elif failing and sum(self._window) >= self.failure_limit:
            why = f"failed in {sum(self._window)} of its last {len(self._window)} cycles"
        else:
            return None
        failed = self.registry.current
        good = self.registry.previous
        self.last_failure = VersionFailure.of(failed.version, strategy_errors, kinds, good.version if good else None)
        if good is None:  # nothing to go back to: it keeps running, the failure is reported
            self._window.clear()
            return None
        start = time.perf_counter()
        self._swap_to(good, keep=None)  # the failed version is not kept: `rollback` must not reinstate it
        self._window.clear()
        more = f" (and {len(strategy_errors) - 1} more)" if len(strategy_errors) > 1 else ""
        error = f"version {failed.version} {why}: {strategy_errors[0]}{more}"
        if self.store is not None:
            self._later(self.store.mark_failed, failed.version, error)
            self._store_commit(good, proven=True)
        return self._record(
            ReloadOutcome(
                ok=False,
                kind="auto_rollback",
                at=utc_now_iso(),
                duration_ms=_ms(start),
                changed=changed_modules(failed.shas(), good.shas()),
                error=error,
                version=good.version,
                candidate=failed.version,
                previous_version=None,
                swapped=True,
                phase="probation" if "swap" in why else "live",
            )
        )

    def stored_sources(self, version: str) -> tuple[SourceFile, ...]:
        """A kept version's sources, as `load_initial` and `rollback_to` take them (the paths
        are those of the strategies directory, so errors point where the operator edits)."""
        if self.store is None:
            raise VersionStoreError("no version store: versions are not kept")
        return tuple(
            SourceFile(name, self.strategies_dir / f"{name}.py", data, hashlib.sha256(data).hexdigest())
            for name, data in self.store.sources(version)
        )

    def rollback_to(self, version: str, overrides: Mapping[str, Any] | None = None) -> ReloadOutcome:
        """Swap in a kept version (`foresight ctl rollback --to VERSION`): loaded and checked
        again like any reload, then committed as proven (it is a version that ran)."""
        if version == self.registry.current.version:
            return self._record(
                ReloadOutcome(
                    ok=True, kind="rollback", at=utc_now_iso(), duration_ms=0.0, changed=(), error=None,
                    version=version, candidate=version,
                    previous_version=self.registry.previous.version if self.registry.previous else None,
                )
            )
        previous = self.registry.previous
        if previous is not None and previous.version == version:
            return self.rollback()
        try:
            sources = self.stored_sources(version)
        except VersionStoreError as exc:
            return self._record(
                ReloadOutcome(
                    ok=False, kind="rollback", at=utc_now_iso(), duration_ms=0.0, changed=(), error=str(exc),
                    version=self.registry.current.version, candidate=version, phase="rollback",
                )
            )
        leaving = self.registry.current.version
        outcome = self._load("rollback", commit=True, overrides=overrides, sources=sources, proven=True)[0]
        if outcome.swapped and self.store is not None:
            self._later(self.store.left_by_rollback, leaving, f"an operator rolled back to {version}")
        return outcome

    # ----------------------------------------------------------------- internals

    @overload
    def _load(
        self, kind: OutcomeKind, *, commit: bool, overrides: Mapping[str, Any] | None = ..., inline: Literal[True] = ...,
        sources: Sequence[SourceFile] | None = ..., proven: bool = ...
    ) -> tuple[ReloadOutcome, StrategyLoadError | None]: ...

    @overload
    def _load(
        self, kind: OutcomeKind, *, commit: bool, overrides: Mapping[str, Any] | None = ..., inline: bool,
        sources: Sequence[SourceFile] | None = ..., proven: bool = ...
    ) -> tuple[ReloadOutcome | None, StrategyLoadError | None]: ...

    def _load(
        self,
        kind: OutcomeKind,
        *,
        commit: bool,
        overrides: Mapping[str, Any] | None = None,
        inline: bool = True,
        sources: Sequence[SourceFile] | None = None,
        proven: bool = False,
    ) -> tuple[ReloadOutcome | None, StrategyLoadError | None]:
        # The cyclic collector waits until the pause is over (hold_gc): a load allocates
        # thousands of objects, enough to trigger collections in the middle of it, and a
        # full collection scans the whole heap (tens of ms). The collection still happens,
        # at the next allocation after the load: nothing is skipped, it is not in the pause.
        with held(self.hold_gc):
            return self._load_held(kind, commit=commit, overrides=overrides, inline=inline, given=sources, proven=proven)

    def _load_held(
        self,
        kind: OutcomeKind,
        *,
        commit: bool,
        overrides: Mapping[str, Any] | None,
        inline: bool,
        given: Sequence[SourceFile] | None = None,
        proven: bool = False,
    ) -> tuple[ReloadOutcome | None, StrategyLoadError | None]:
        phases = _Phases(time.perf_counter())
        running = self.registry.current if self.registry.loaded else None
        kept = self.registry.previous
        answer = _Answer(self._record, kind, phases, running.version if running else "", kept.version if kept else None)
        staged, self._staged = self._staged, None  # a check keeps it for the reload (below)

        try:
            sources = tuple(given) if given is not None else read_sources(self.strategies_dir, self.scope)
        except StrategyLoadError as error:
            return answer(False, (), None, **_refusal(error)), error
        phases.mark("read")
        shas = {s.name: s.sha256 for s in sources}
        changed = changed_modules(running.shas() if running else None, shas)

        if kind == "reload" and not changed:
            # Same bytes as the running code: nothing to load, and `previous` stays the rollback target.
            return answer(True, (), version_of(shas.items())), None

        if staged is not None and staged.matches(running, shas, overrides):
            prepared, prepared_ms = staged, staged.elapsed_ms  # done between cycles: only the commit is left
            if not commit:
                self._staged = staged
        elif not inline:
            return None, None
        else:
            prepared, prepared_ms = self._prepare(sources, running, overrides, phases), None
        extra: dict[str, Any] = dict(executed=prepared.executed, prepared_ms=prepared_ms)
        if prepared.error is not None:
            return answer(False, changed, prepared.candidate, **extra, **_refusal(prepared.error)), prepared.error
        if not commit:
            self.checked = prepared
            return answer(True, changed, prepared.candidate, smoke=prepared.smoke, **extra), None

        self._commit(prepared, running, proven=proven)
        phases.mark("commit")
        assert prepared.version is not None
        self._store_commit(prepared.version, proven=proven)
        return answer(
            True,
            changed,
            prepared.candidate,
            version=prepared.candidate,
            previous_version=answer.running_version or None,
            swapped=True,
            smoke=prepared.smoke,
            **extra,
        ), None

    def _commit(self, prepared: Preparation, running: CodeVersion | None, *, proven: bool) -> None:
        """Swap a prepared version in: sys.modules and the registry change in the same step."""
        version = prepared.version
        assert version is not None
        self.checked = None  # prepared against the code this commit replaces
        install(version.package, version.module_objects())
        self.registry.swap(version, running)
        version.publish_source()
        self._window.clear()
        if running is not None:
            self.reloads += 1
        self._probation_left = 0 if proven else self.probation_cycles

    def _prepare(
        self,
        sources: Sequence[SourceFile],
        running: CodeVersion | None,
        overrides: Mapping[str, Any] | None,
        phases: _Phases,
    ) -> Preparation:
        """Compile, execute, check and smoke-test `sources` into a new CodeVersion.

        `sys.modules` is put back as it was whatever happens: the result is swapped
        in later, by `install`, or dropped.
        """
        started = time.perf_counter()
        shas = {s.name: s.sha256 for s in sources}
        candidate = version_of(shas.items())
        # Unchanged leaves whose own dependencies are unchanged keep their module objects.
        running_modules = {m.name: m for m in running} if running else {}
        reuse = reusable_prefix(
            sources, {name: (m.sha256, m.module, m.reusable) for name, m in running_modules.items()}
        )
        executed = tuple(s.name for s in sources if s.name not in reuse)
        result = Preparation(
            base=running, shas=shas, overrides=_plain(overrides), candidate=candidate, executed=executed
        )
        result.error = self._poisoned(candidate, sources)
        if result.error is not None:
            result.elapsed_ms = _ms(started)
            return result
        self.loading = candidate
        transaction = ModuleTransaction(self.scope)
        process = ProcessSnapshot.take()
        shared = SharedModules(reuse)
        try:
            version = self._execute(candidate, sources, running_modules, reuse, phases)
            version = dataclasses.replace(
                version, params_schema=check_api(version, self._timed_load), params_guard=self._timed_params
            )
            phases.mark("check")
            result.smoke = self._smoke(version, overrides)
            phases.mark("smoke")
            result.version = version
        except StrategyLoadError as error:
            result.error = error
        except Exception as exc:  # noqa: BLE001 - strategy code that fails in a way not foreseen above
            result.error = load_error(exc, [str(s.path) for s in sources], "import")
        finally:
            self.loading = None
            transaction.restore()
            result.undone = tuple(process.restore())
            touched = shared.restore()
        if touched:
            also = f" (it also failed: {result.error})" if result.error is not None else ""
            result.version, result.smoke = None, None
            result.error = StrategyLoadError(
                f"the new code {shared_change(touched)}, and the new code refused: change that module's own file instead{also}",
                file=str(sources[-1].path),
                phase="import",
            )
        result.elapsed_ms = _ms(started)
        return result

    def _poisoned(self, candidate: str, sources: Sequence[SourceFile]) -> StrategyLoadError | None:
        """A version that once hung the engine while loading is refused before any of it runs."""
        poisoned = self.store.manifest.poisoned.get(candidate) if self.store is not None else None
        if poisoned is None:
            return None
        return StrategyLoadError(
            f"version {candidate} hung the engine while loading ({poisoned}); it is not loaded again: change the files",
            file=str(sources[-1].path),
            phase="import",
        )

    def _execute(
        self,
        candidate: str,
        sources: Sequence[SourceFile],
        running_modules: Mapping[str, LoadedModule],
        reuse: dict[str, ModuleType],
        phases: _Phases,
    ) -> CodeVersion:
        """Compile and run the changed modules under the load budget; the reused ones keep their objects."""
        codes = compile_sources([s for s in sources if s.name not in reuse], self._codes)
        phases.mark("compile")
        package, modules, not_reusable = execute(
            sources, self.strategies_dir, self._guard, codes, reuse, timed=self._timed_load
        )
        phases.mark("execute")
        loaded_at = utc_now_iso()
        return CodeVersion(
            version=candidate,
            modules=tuple(
                running_modules[s.name]
                if s.name in reuse
                else LoadedModule(s.name, s.path, s.sha256, loaded_at, modules[s.name], s.source, s.name not in not_reusable)
                for s in sources
            ),
            package=package,
        )

    def _smoke(self, version: CodeVersion, overrides: Mapping[str, Any] | None) -> SmokeReport:
        params_model = version.params_model
        params: list[BaseModel] = [self._timed_load(params_model)]
        if overrides:
            try:
                params.append(self._timed_load(params_model.model_validate, dict(overrides)))
            except StrategyTimeout as exc:
                raise StrategyLoadError(f"Params with the overrides in force: {exc}", phase="api") from exc
            except Exception:  # noqa: BLE001 - overrides that no longer validate are the loop's to drop
                pass
        evaluate = version.strategy.evaluate
        analyse = version.analyse_history  # the optional per-asset step: checked against evaluate alone
        return run_smoke(
            evaluate,
            params,
            self.smoke_views,
            budget_ms=self.budgets.smoke_s * 1000.0,
            files=version.files,
            entry_file=str(version.strategy.__file__),
            entry_line=first_line(evaluate),
            analyse=analyse,
            analyse_line=first_line(analyse) if analyse is not None else None,
            guard=self.guard,
        )

    def _timed_params(self, fn: Any) -> Any:
        """Params validation (an override set) under the load budget, unless a guarded call is
        already running (the smoke evaluation validates inside its own budget)."""
        return fn() if self.guard.busy else self.guard.call(self.budgets.load_s, fn, what="params")

    def _timed_load(self, fn: Any, *args: Any) -> Any:
        """Strategy code run while loading (a module's top level, Params), under the load budget."""
        return self.guard.call(self.budgets.load_s, fn, *args, what="load")

    def _swap_to(self, target: CodeVersion, keep: CodeVersion | None) -> None:
        self.checked = None
        install(target.package, target.module_objects())
        self.registry.swap(target, keep)
        target.publish_source()
        self.reloads += 1

    def _store_commit(self, version: CodeVersion, *, proven: bool) -> None:
        if self.store is not None:
            self._later(self.store.commit, version.version, [(m.name, m.sha256, m.source) for m in version], proven=proven)

    def _later(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        # The store's writes stay out of the pause: `flush_store` runs them after it (right after
        # a swap, or in the wait after the cycle). A crash before then restarts on the version the
        # store still names, the one that ran before, and the acks left in probation say rolled_back.
        self._store_ops.append((fn, args, kwargs))

    def flush_store(self) -> str | None:
        """Write what the version store was told since the last flush; why it could not, if so.

        A write that fails is tried again, with every one after it in order, at the next flush:
        the code runs meanwhile, and `store_error` says that its record is behind."""
        ops, self._store_ops = self._store_ops, []
        error = None
        if self.store is not None:
            failed_sync = self.store.sync_errors()
            if failed_sync:
                error = _store_problem(failed_sync[-1])
                ops = [(self.store.save, (), {}), *ops]  # written again, fsync'd again
        for index, (fn, args, kwargs) in enumerate(ops):
            try:
                fn(*args, **kwargs)
            except OSError as exc:
                self._store_ops = ops[index:] + self._store_ops
                error = _store_problem(exc)
                break
        self.store_error = error
        return error

    def _record(self, outcome: ReloadOutcome) -> ReloadOutcome:
        self.last_outcome = outcome
        self.history.append(outcome)
        return outcome


@dataclass(frozen=True)
class VersionFailure:
    """A version that failed live: which, how, where, in which slots, and what runs now."""

    version: str
    how: str  # timeout, exception, exit, invalid
    error: str  # the first error, file:line: message
    slots: tuple[str, ...]
    at: str
    now_running: str | None  # None: nothing to roll back to, it keeps running

    @classmethod
    def of(cls, version: str, errors: Sequence[str], kinds: Sequence[str], now_running: str | None) -> VersionFailure:
        slots = tuple(dict.fromkeys(e.partition(": ")[0] for e in errors))
        first = errors[0].partition(": ")[2] if errors else ""
        how = kinds[0] if kinds else ("timeout" if "timed out" in first else "exception")
        return cls(version, how, first[:300], slots, utc_now_iso(), now_running)


@dataclass(eq=False)
class Preparation:
    """A prepared code version (or why it fails), waiting for a reload or check to use it."""

    base: CodeVersion | None  # the running version it was prepared against (its reused modules come from it)
    shas: dict[str, str]
    overrides: dict[str, Any]
    candidate: str
    executed: tuple[str, ...]
    version: CodeVersion | None = None
    smoke: SmokeReport | None = None
    error: StrategyLoadError | None = None
    elapsed_ms: float = 0.0
    undone: tuple[str, ...] = ()  # process-wide changes the strategy's top level made, put back

    @property
    def ok(self) -> bool:
        return self.error is None

    def matches(self, running: CodeVersion | None, shas: dict[str, str], overrides: Mapping[str, Any] | None) -> bool:
        return self.base is running and self.shas == shas and self.overrides == _plain(overrides)


def _store_problem(exc: OSError) -> str:
    where = f" ({Path(exc.filename).name})" if exc.filename else ""
    return f"cannot write the version store{where}: {exc.strerror or exc}"


def _plain(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(overrides) if overrides else {}


def _refusal(error: StrategyLoadError) -> dict[str, Any]:
    return dict(error=error.describe(), error_file=error.file, error_line=error.line, phase=error.phase)


@dataclass(frozen=True)
class _Answer:
    """Builds and records the outcome of one load: what every answer shares is fixed at its start."""

    record: Callable[[ReloadOutcome], ReloadOutcome]
    kind: OutcomeKind
    phases: _Phases
    running_version: str
    kept_version: str | None

    def __call__(self, ok: bool, changed: tuple[str, ...], candidate: str | None, **extra: Any) -> ReloadOutcome:
        fields: dict[str, Any] = dict(
            ok=ok,
            kind=self.kind,
            at=utc_now_iso(),
            duration_ms=_ms(self.phases.start),
            changed=changed,
            error=None,
            version=self.running_version,
            candidate=candidate,
            previous_version=self.kept_version,
            phases=self.phases.done,
        )
        fields.update(extra)
        return self.record(ReloadOutcome(**fields))


class _Phases:
    """Milliseconds spent in each step of one load, for profiling the pause."""

    def __init__(self, start: float) -> None:
        self.start = start
        self._last = start
        self.done: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.done[name] = round((now - self._last) * 1000.0, 3)
        self._last = now


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _checked_scope(scope: Sequence[str], directory: Path) -> tuple[str, ...]:
    """The reload scope is strategy modules of one directory, never engine code."""
    if isinstance(scope, str) or not scope:
        raise ValueError("scope must be a non-empty sequence of module names")
    names = []
    for raw in scope:
        name = raw.removeprefix(f"{PACKAGE}.") if isinstance(raw, str) else raw
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("__"):
            raise ValueError(f"{raw!r} is not a strategy module name (a plain name inside {PACKAGE}/)")
        if name in _ENGINE_SIDE:
            raise ValueError(f"{raw!r}: engine and TUI modules can never be in the reload scope")
        if name in names:
            raise ValueError(f"{raw!r} appears twice in the reload scope")
        names.append(name)
    if ENTRY_MODULE not in names:
        raise ValueError(f"the reload scope must include the entry module {ENTRY_MODULE!r}")
    for side in _ENGINE_SIDE:
        root = (Path(__file__).resolve().parents[2] / side).resolve()
        if directory == root or root in directory.parents:
            raise ValueError(f"{directory} holds {side} code: it can never be a strategies directory")
    return tuple(names)
