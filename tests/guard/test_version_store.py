"""The version store keeps the last N versions (and never the running or last good one out),
serves their sources checked against their hashes, and names the version a start must run."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.reload.version_store import VersionStore, VersionStoreError


def _modules(tag: str) -> list[tuple[str, str, bytes]]:
    out = []
    for name in ("ta_engine", "strategy"):
        data = f"# {name} {tag}\n".encode()
        out.append((name, hashlib.sha256(data).hexdigest(), data))
    return out


def test_keeps_the_last_versions_and_their_sources_only(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "state", keep=4)
    store.commit("000000000000", _modules("good"), proven=True)
    for i in range(1, 7):
        store.commit(f"{i:012x}", _modules(str(i)))
    kept = [e.version for e in store.entries()]
    assert len(kept) == 4 and "000000000000" in kept  # the last good one is never pruned
    assert kept[-1] == f"{6:012x}" and store.manifest.running == kept[-1]
    blobs = {p.name for p in (tmp_path / "state" / "versions" / "blobs").iterdir()}
    assert blobs == {sha for e in store.entries() for sha in (m.sha256 for m in e.modules)}
    with pytest.raises(VersionStoreError, match="not kept"):
        store.sources(f"{1:012x}")
    # A reopened store knows all of it; the running version was in probation at an unclean stop.
    again = VersionStore(tmp_path / "state", keep=4)
    again.manifest.clean_stop = False
    assert again.died_in_probation() == f"{6:012x}"
    choice = again.boot_choice()
    assert choice is not None and choice.version == "000000000000"
    assert again.sources("000000000000")[1] == ("strategy", b"# strategy good\n")


def test_an_altered_blob_is_refused(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "state")
    modules = _modules("x")
    store.commit("aaaaaaaaaaaa", modules, proven=True)
    (tmp_path / "state" / "versions" / "blobs" / modules[0][1]).write_bytes(b"tampered")
    with pytest.raises(VersionStoreError, match="does not match its hash"):
        store.sources("aaaaaaaaaaaa")
