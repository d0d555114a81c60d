"""The smoke snapshot still sees every slot kind at the key instants."""

from __future__ import annotations

from engine.reload.smoke import ASSETS, WINDOWS_S, snapshot

# --------------------------------------------------- the smoke snapshot coverage


def test_smoke_snapshot_sees_every_slot_kind_at_the_key_instants() -> None:
    views = snapshot()
    assert views == snapshot()  # fixed
    slots = {(v.asset, v.window_s) for v in views}
    assert slots == {(a, w) for a in ASSETS for w in WINDOWS_S}
    for asset in ASSETS:
        for window in WINDOWS_S:
            seen = [v for v in views if (v.asset, v.window_s) == (asset, window)]
            assert len(seen) == 2
            assert min(len(v.history) for v in seen) < 5  # just opened
            assert max(len(v.history) for v in seen) >= 100  # a later instant with full history

    def instant(v) -> str:
        left = v.window_end - v.now
        if len(v.history) < 5:
            return "opened"
        if left <= 10:
            return "close"
        if left <= 60:
            return "snipe"
        return "mid"

    for window in WINDOWS_S:
        counts = {}
        for v in views:
            if v.window_s == window:
                counts[instant(v)] = counts.get(instant(v), 0) + 1
        assert counts["opened"] == len(ASSETS)
        assert all(counts[name] >= 2 for name in ("mid", "snipe", "close")), counts
    assert any(v.in_cooldown for v in views)
    assert any(v.has_position for v in views)
    assert any(v.open_positions >= 64 for v in views)
