"""The summary as JSON (schema ``chibo.summary/1``), for other systems."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from documents import pipeline as pipeline_doc
from documents.summary_words import SCHEMA
from storage.models import SignGroup
from storage.summary import (
    Figures,
    Summary,
)


def figures_json(f: Figures) -> dict[str, Any]:
    """The figures as JSON (every key always present)."""
    out: dict[str, Any] = {k.name: getattr(f, k.name) for k in fields(f) if k.name != "new_signs"}
    out["attendance_rate"] = None if f.attendance_rate is None else round(f.attendance_rate, 4)
    out["new_signs"] = {g.value: f.new_signs.get(g.value, 0) for g in SignGroup}
    out["new_signs"]["unspecified"] = f.new_signs.get("unspecified", 0)
    return out


def _ym(y: int, m: int) -> str:
    return f"{y}-{m:02d}"


def to_json(s: Summary) -> dict[str, Any]:
    """The summary as a JSON-ready dict (shape documented in docs/summary-json.md)."""
    info = s.subject
    codes = {row.id: row.code for row in s.cells}
    group_codes = {g.key: g.code for g in s.by_committee}
    return {
        "schema": SCHEMA,
        "generated_at": s.generated_at.isoformat(),
        "today": s.today.isoformat(),
        "period": {
            "key": s.period.key,
            "kind": s.period.kind,
            "start": s.period.start.isoformat(),
            "end": s.period.end.isoformat(),
            "upto": s.upto.isoformat(),
            "in_progress": s.in_progress,
            "months": [_ym(y, m) for y, m in s.months],
            "quarters": [f"{y}-Q{q}" for y, q in s.quarters],
        },
        "scope": {
            "kind": info.subject.kind,
            "org_code": info.org_code,
            "org_name": info.org_name,
            "type_code": info.subject.type_code,
            "type_name": {"vi": info.type_name_vi, "en": info.type_name_en}
            if info.subject.kind == "type"
            else None,
            "sees_all": s.scope_sees_all,
        },
        "has_data": s.has_data,
        "totals": figures_json(s.total),
        "by_type": [
            {
                "code": g.code or None,
                "name": {"vi": g.name_vi, "en": g.name_en},
                "cells": [codes[c] for c in g.cell_ids],
                "figures": figures_json(g.figures),
            }
            for g in s.by_type
        ],
        "by_committee": [
            {
                "code": g.code,
                "name": g.name_vi,
                "cells": [codes[c] for c in g.cell_ids],
                "figures": figures_json(g.figures),
            }
            for g in s.by_committee
        ],
        "cells": [
            {
                "code": row.code,
                "name": row.name,
                "kind": row.kind.value,
                "type": row.type_code,
                "committee": group_codes.get(str(row.group_id)),
                "months_due": [_ym(*ym) for ym in row.months_due],
                "months_missing": [_ym(*ym) for ym in row.missing_months],
                "quarters_missing": [f"{y}-Q{q}" for y, q in row.missing_quarters],
                "last_meeting": row.last_held.isoformat() if row.last_held else None,
                "has_study_model": row.has_model,
                "figures": figures_json(row.figures),
            }
            for row in s.cells
        ],
        "lists": {
            "three_months_flagged": [_member_json(m, s) for m in s.flagged],
            "three_months_warned": [_member_json(m, s) for m in s.warned],
            "new_signs": [
                {
                    "member_id": m.member_id,
                    "name": m.name,
                    "cell": m.cell_code,
                    "month": _ym(s.period.year, m.months[0]),
                    "group": m.sign_group,
                }
                for m in s.new_signs
            ],
            "reports": [
                {
                    "cell": r.org_code,  # the owing organization's code, a cell's or not
                    "org_kind": r.org_kind,  # "cell" or "committee" (its own report)
                    "kind": r.kind,
                    "period": r.period,
                    "due_on": r.due_on.isoformat(),
                    "state": r.state,
                    "submitted_on": r.submitted_on.isoformat() if r.submitted_on else None,
                }
                for r in s.reports
            ],
        },
        "candidates": {
            "tracked": s.candidates.tracked,
            "by_stage": s.candidates.by_stage,
            "by_priority_group": s.candidates.by_group,
            # Added with the admission pipeline, once there is something to show: per cell /
            # type / grassroots organization, the names behind each stage, enterprises, overdue.
            **pipeline_doc.json_entry(s.pipeline, s.candidates.tracked),
        },
        "rule_sources": s.rule_sources,
    }


def _member_json(m: Any, s: Summary) -> dict[str, Any]:
    return {
        "member_id": m.member_id,
        "name": m.name,
        "cell": m.cell_code,
        "months": [_ym(s.period.year, x) for x in m.months],
        "level": m.level,
    }
