"""A check's preview: what the candidate would decide on this cycle's market, beside the running code.

The running code's decisions are the ones the engine took this cycle; the candidate
is called on the very views they were taken on (`RecordingEvaluator`), its own
per-asset step run on the same histories. Nothing it returns trades. With them:
the parameter changes (new, removed, changed defaults) and the source diff.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from engine.contract.models import CodePreview, ParamChange, PreviewRow, utc_now_iso
from engine.reload.code_version import CodeVersion
from engine.shadow.candidate import CandidateEvaluator, RecordingEvaluator
from engine.shadow.decision_brief import brief, same
from engine.trading.state import SignalRecord, SlotRecord

DIFF_LIMIT = 64 * 1024  # characters of diff kept in status.json


def param_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ParamChange]:
    """Parameters new, removed, or whose default changed, between two Params JSON Schemas."""
    before, after = old.get("properties", {}), new.get("properties", {})
    changes = [ParamChange(name=n, change="new", new=after[n].get("default")) for n in after if n not in before]
    changes += [ParamChange(name=n, change="removed", old=before[n].get("default")) for n in before if n not in after]
    changes += [
        ParamChange(name=n, change="default", old=before[n].get("default"), new=after[n].get("default"))
        for n in after
        if n in before and before[n].get("default") != after[n].get("default")
    ]
    return changes


def source_diff(running: CodeVersion, candidate: CodeVersion, limit: int = DIFF_LIMIT) -> str:
    """Unified diff of the modules whose source differs, in dependency order."""
    old = {m.name: m.source for m in running}
    parts: list[str] = []
    for module in candidate:
        before = old.get(module.name, b"")
        if before == module.source:
            continue
        parts.extend(
            difflib.unified_diff(
                before.decode("utf-8", "replace").splitlines(True),
                module.source.decode("utf-8", "replace").splitlines(True),
                f"a/{module.name}.py",
                f"b/{module.name}.py",
            )
        )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in parts)
    return text if len(text) <= limit else text[:limit] + f"\n... diff cut at {limit} characters\n"


def decide(candidate: CandidateEvaluator, recorder: RecordingEvaluator, params: BaseModel) -> tuple[dict[str, SignalRecord | None], str | None]:
    """The candidate's decision on each recorded view, and its first error (its slot left None)."""
    analyses: dict[str, Any] = {}
    decisions: dict[str, SignalRecord | None] = {}
    error: str | None = None
    candidate.new_cycle()
    for slot_id, view in recorder.views.items():
        if error is not None:  # one failure judges it: a hanging candidate costs one call budget
            decisions[slot_id] = None
            continue
        try:
            if candidate.analyse_history is None:
                analysis = None
            elif view.asset in analyses:
                analysis = analyses[view.asset]
            else:
                analysis = analyses[view.asset] = candidate.analyse_history(view.history, view.history_step_s, params)
            decision = candidate.evaluate(view._replace(history_analysis=analysis), params)
        except Exception as exc:  # the candidate's failure is reported, never raised into the cycle
            decisions[slot_id] = None
            error = error or f"{slot_id}: {candidate.describe_error(exc)[:300]}"
            continue
        decisions[slot_id] = None if decision is None else SignalRecord(
            decision.direction, float(decision.confidence), str(decision.path), float(decision.prob_up),
            float(decision.edge), bool(decision.enter), str(decision.reason),
        )  # fmt: skip
    return decisions, error


def build(
    commands: Sequence[str],
    cycle: int,
    running: CodeVersion,
    candidate: CandidateEvaluator,
    recorder: RecordingEvaluator,
    params: BaseModel,
    slots: Mapping[str, SlotRecord],
) -> CodePreview:
    decisions, error = decide(candidate, recorder, params)
    rows = []
    for slot_id, record in slots.items():
        live = record.signal if slot_id in recorder.views else None
        shadow = decisions.get(slot_id)
        rows.append(PreviewRow(slot=slot_id, live=brief(live), candidate=brief(shadow), differs=not same(live, shadow)))
    differ = [r for r in rows if r.differs]
    entries = sum(1 for r in differ if (r.live is not None and r.live.enter) != (r.candidate is not None and r.candidate.enter))
    rows = differ + [r for r in rows if not r.differs]
    summary = f"would change {len(differ)} of {len(rows)} decisions, {entries} entr{'y' if entries == 1 else 'ies'}"
    return CodePreview(
        commands=list(commands),
        at=utc_now_iso(),
        cycle=cycle,
        running=running.version,
        candidate=candidate.version.version,
        summary=summary,
        slots=len(rows),
        differ=len(differ),
        entries_differ=entries,
        rows=rows,
        params=param_changes(running.params_schema, candidate.version.params_schema),
        diff=source_diff(running, candidate.version),
        error=error,
    )
