"""Which strategy version a starting engine runs: the boot names the version.

The version store decides (engine/reload/version_store.py): the version that was
running, or the last good one when that version was failing or in probation when
the process died. The strategies directory on disk is loaded only on the first
start (nothing stored yet) or when `--load-from-disk` asks for it; otherwise it is
a candidate for the next reload.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.reload.manager import ReloadManager
from engine.reload.module_loader import StrategyLoadError
from engine.reload.version_store import VersionStore, VersionStoreError


@dataclass(frozen=True)
class Boot:
    version: str
    why: str
    failed_in_probation: str | None = None  # a version the last run died with in probation
    warnings: tuple[str, ...] = ()


def load_code(reloader: ReloadManager, store: VersionStore, *, from_disk: bool = False) -> Boot:
    """Load the version this start must run into `reloader`; raise StrategyLoadError when
    nothing loads (not the stored versions, not the files on disk)."""
    died = store.died_in_probation() if store.manifest.clean_stop is False else None
    warnings: list[str] = [store.problem] if store.problem else []
    if died is not None:
        warnings.append(f"version {died} was in probation when the engine died: marked failed, not run again")
    choice = None if from_disk else store.boot_choice()
    if choice is None:
        reloader.load_initial()
        why = "--load-from-disk: loaded the strategies directory" if from_disk else "first start: loaded the strategies directory"
        return Boot(reloader.registry.version, why, died, tuple(warnings))
    tried = [choice.version]
    candidates = [(choice.version, choice.why)]
    good = store.manifest.last_good
    if good and good != choice.version:
        candidates.append((good, f"{choice.version} does not load any more; back to the last good {good}"))
    for version, why in candidates:
        entry = store.entry(version)
        try:
            reloader.load_initial(reloader.stored_sources(version), proven=bool(entry and entry.proven))
        except (StrategyLoadError, VersionStoreError) as exc:
            warnings.append(f"stored version {version} does not load: {exc}")
            reloader.last_outcome = None
            continue
        if died is not None and version == choice.version:
            why = f"{died} was in probation when the engine died; back to the last good {version}"
        return Boot(version, why, died, tuple(warnings))
    reloader.load_initial()
    return Boot(
        reloader.registry.version,
        f"no stored version loads ({', '.join(tried)}): loaded the strategies directory",
        died,
        tuple(warnings),
    )
