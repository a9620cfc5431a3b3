"""The catalog (``obligations`` rows and the ``calendar`` setting) and the public holidays,
read and written."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from domain.rules.holidays import RULE_SOURCE_LABOUR_CODE, Decision
from storage.audit import Actor, record
from storage.models import Holiday, Obligation, Setting

CALENDAR_SETTING = "calendar"
HOLIDAY_RULES_SETTING = "holiday_rules"


def catalog_rows(session: Session) -> tuple[list[Obligation], dict[str, Any] | None]:
    """The stored obligations and the calendar-wide settings (None when never loaded)."""
    rows = list(session.scalars(select(Obligation).order_by(Obligation.code)))
    setting = session.get(Setting, CALENDAR_SETTING)
    return rows, (setting.value if setting is not None else None)


def save_catalog(
    session: Session,
    *,
    rows: list[tuple[str, dict[str, Any], str, bool]],
    calendar: dict[str, Any],
    rule_source: str,
    actor: Actor,
    now: datetime,
) -> list[str]:
    """Replace the catalog: upsert ``rows``, deactivate the others; return the deactivated."""
    existing = {o.code: o for o in session.scalars(select(Obligation))}
    for code, spec, source, active in rows:
        row = existing.get(code)
        if row is None:
            session.add(
                Obligation(code=code, spec=spec, rule_source=source, active=active, loaded_at=now)
            )
        else:
            row.spec, row.rule_source, row.active, row.loaded_at = spec, source, active, now
    codes = {r[0] for r in rows}
    deactivated = sorted(c for c, o in existing.items() if c not in codes and o.active)
    if deactivated:
        session.execute(
            update(Obligation).where(Obligation.code.in_(deactivated)).values(active=False)
        )
    setting = session.get(Setting, CALENDAR_SETTING)
    if setting is None:
        session.add(
            Setting(
                key=CALENDAR_SETTING,
                value=calendar,
                rule_source=rule_source[:200],
                updated_at=now,
                updated_by=actor.label[:120],
            )
        )
    else:
        setting.value, setting.rule_source = calendar, rule_source[:200]
        setting.updated_at, setting.updated_by = now, actor.label[:120]
    record(
        session,
        actor=actor,
        at=now,
        action="load",
        entity="calendar",
        after={"obligations": sorted(codes), "deactivated": deactivated},
    )
    return deactivated


def holiday_days(session: Session) -> dict[date, str]:
    """The stored days off decided by the Government (not the law's computed holidays)."""
    return dict(
        session.execute(select(Holiday.day, Holiday.name).where(Holiday.kind == "day_off"))
        .tuples()
        .all()
    )


def holiday_decisions(session: Session) -> list[Decision]:
    """Every stored decision: days off and days worked, with their source."""
    return [
        Decision(day, kind or "day_off", name, source or "")
        for day, kind, name, source in session.execute(
            select(Holiday.day, Holiday.kind, Holiday.name, Holiday.source).order_by(Holiday.day)
        )
    ]


def save_holidays(
    session: Session,
    *,
    days: dict[date, str] | None = None,
    years: Iterable[int],
    actor: Actor,
    now: datetime,
    decisions: Iterable[Decision] = (),
    rules: dict[str, Any] | None = None,
    added: list[dict[str, Any]] | None = None,
    rule_source: str = "",
) -> None:
    """Replace the decisions of ``years``; store the layout rules and added holidays if given.

    ``days`` (day → name) are days off without a source, as older files gave them.
    """
    for year in sorted(set(years)):
        session.execute(
            delete(Holiday).where(
                Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31)
            )
        )
    session.flush()
    rows = {d.day: d for d in decisions}
    for day, name in (days or {}).items():
        rows.setdefault(day, Decision(day, "day_off", name, rule_source))
    for d in sorted(rows.values(), key=lambda d: d.day):
        session.add(Holiday(day=d.day, name=d.name[:120], kind=d.kind, source=(d.source or None)))
    if rules is not None or added is not None:
        setting = session.get(Setting, HOLIDAY_RULES_SETTING)
        value = dict(setting.value) if setting is not None else {}
        if rules is not None:
            value.update(rules)
        if added is not None:
            value["added"] = added
        if setting is None:
            session.add(
                Setting(
                    key=HOLIDAY_RULES_SETTING,
                    value=value,
                    rule_source=(rule_source or RULE_SOURCE_LABOUR_CODE)[:200],
                    updated_at=now,
                    updated_by=actor.label[:120],
                )
            )
        else:
            setting.value = value
            setting.updated_at, setting.updated_by = now, actor.label[:120]
    record(
        session,
        actor=actor,
        at=now,
        action="load",
        entity="holidays",
        after={"years": sorted(set(years)), "days": len(rows), "rules": rules is not None},
    )
