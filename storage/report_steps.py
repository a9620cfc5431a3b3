"""The step use cases of the report's typed steps (an assessment; the reason to reopen).

The flow ``report`` (states are :class:`ReportStep`)::

    (report screen) → assessment (typed) → (report screen)
    (report screen) → reason (typed) → reopened → (report screen)

Each step runs in the caller's one transaction, finds the draft with
:func:`storage.drafts.current` and checks again that the person writes the organization's report.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from domain import access
from storage import access as access_facts
from storage import drafts, report_kinds, reports
from storage.audit import Actor
from storage.models import Draft

FLOW = "report"


class ReportStep(enum.StrEnum):
    """Steps of the report's typed conversation."""

    ASSESSMENT = "assessment"
    REASON = "reason"


def _require_reporter(session: Session, person_id: int, org_id: int) -> None:
    """The person writes the organization's own report: its cell, or the grassroots party
    committee they are secretary of (checked again in each step's transaction)."""
    access.require_report_write(access_facts.holder(session, person_id), org_id)


def start(
    session: Session,
    *,
    person_id: int,
    org_id: int,
    kind: str,
    period: str,
    step: ReportStep,
    now: datetime,
) -> Draft:
    """Ask for the assessment, or the reason to reopen the report."""
    _require_reporter(session, person_id, org_id)
    return drafts.start(
        session,
        person_id=person_id,
        flow=FLOW,
        state=step.value,
        data={"org": org_id, "kind": kind, "period": period},
        now=now,
    )


def target(draft: Draft) -> dict[str, Any]:
    """The report a draft of this flow is about: org, kind code, period key."""
    return {"org": draft.data["org"], "kind": draft.data["kind"], "period": draft.data["period"]}


def _current(session: Session, person_id: int, key: int, *states: ReportStep) -> Draft:
    draft = drafts.current(session, person_id, flow=FLOW, conversation=key, states=states)
    _require_reporter(session, person_id, int(draft.data["org"]))
    return draft


def cancel(session: Session, *, person_id: int, key: int) -> dict[str, Any]:
    """Leave the typed step; returns the report it was about."""
    draft = _current(session, person_id, key)
    about = target(draft)
    drafts.finish(session, person_id)
    return about


def save_assessment(
    session: Session,
    *,
    person_id: int,
    key: int,
    text: str,
    actor: Actor,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    """Store the typed assessment; ends the conversation and returns the report it was on."""
    draft = _current(session, person_id, key, ReportStep.ASSESSMENT)
    about = target(draft)
    reports.set_assessment(
        session,
        org_id=about["org"],
        kind=report_kinds.kind_of(about["kind"]),
        period=about["period"],
        text=text,
        actor=actor,
        now=now,
        today=today,
    )
    drafts.finish(session, person_id)
    return about


def save_reason(
    session: Session, *, person_id: int, key: int, text: str, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Reopen the report with the typed reason; ends the conversation."""
    draft = _current(session, person_id, key, ReportStep.REASON)
    about = target(draft)
    reports.reopen(
        session,
        org_id=about["org"],
        kind=report_kinds.kind_of(about["kind"]),
        period=about["period"],
        reason=text,
        actor=actor,
        now=now,
    )
    drafts.finish(session, person_id)
    return about
