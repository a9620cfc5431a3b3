"""The deadline catalog in the database: store a checked file, read back the one in force.

Parsing and checking (and the shipped defaults) are :mod:`domain.calendar`'s; an admin loads an
edited copy with ``chibo calendar load FILE``. A file is checked completely before anything is
written, so a bad file gives a clear error and the old catalog stays in force. Public holidays
(``domain/data/holidays.toml``) load the same way.

Until a catalog has been loaded into the database, the shipped default is in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from domain.calendar import (
    DEFAULT_CATALOG,
    DEFAULT_ROLL,
    HOLIDAY_KEYS,
    Catalog,
    CatalogError,
    HolidayFile,
    days_off_in,
    default_catalog,
    default_holidays,
    default_text,
    holidays_of,
    parse_catalog,
    read_toml,
    spec_from_row,
    stored_plan,
)
from domain.rules.deadlines import RULE_SOURCE_WEEKEND, DigestRule, WorkCalendar, weekdays
from domain.rules.holidays import added_value
from domain.settings import Settings
from storage import obligations as store
from storage.audit import Actor


def current(session: Session, settings: Settings | None = None) -> Catalog:
    """The catalog in force: the one loaded into the database, else the shipped default."""
    rows, stored = store.catalog_rows(session)
    if not rows or stored is None:
        return default_catalog(settings)
    head = dict(stored)
    plan = stored_plan(head.get("reminders"), settings)
    specs = tuple(spec_from_row(r.code, r.spec, r.rule_source, r.active) for r in rows)
    digest_raw = head.get("digest", {})
    grace = head.get("meeting_grace_days")
    return Catalog(
        obligations=specs,
        if_day_off=str(head.get("if_day_off", DEFAULT_ROLL)),
        meeting_grace_days=grace if isinstance(grace, int) else None,
        weekend=weekdays(head.get("weekend", ["sat", "sun"])),
        weekend_source=str(head.get("weekend_source", RULE_SOURCE_WEEKEND)),
        no_reminders_on=weekdays(head.get("no_reminders_on", ["sun"])),
        plan=plan,
        digest=DigestRule(
            weekday=min(weekdays([digest_raw.get("weekday", "mon")])),
            after_deadlines=bool(digest_raw.get("after_deadlines", True)),
            roles=tuple(digest_raw.get("roles", DigestRule().roles)),
        ),
    )


def holidays(session: Session, years: Iterable[int] = ()) -> dict[date, str]:
    """The days off in force in ``years``: the law's holidays and the decided days off
    (without ``years``: the decided days off only)."""
    decided = {d.day: d.name for d in store.decisions_in_force(session) if d.kind == "day_off"}
    return days_off_in(store.work_calendar(session), decided, years)


def work_calendar(session: Session, catalog: Catalog) -> WorkCalendar:
    """Working days and sending days under ``catalog``: the law's holidays of every year
    (computed), plus the Government's decisions (:func:`storage.obligations.work_calendar`)."""
    return store.work_calendar(
        session, weekend=catalog.weekend, no_reminders_on=catalog.no_reminders_on
    )


@dataclass(frozen=True)
class LoadResult:
    """What ``chibo calendar load`` changed."""

    obligations: int = 0
    deactivated: tuple[str, ...] = ()
    holidays: int = 0
    years: tuple[int, ...] = ()
    working_days: int = 0


def load_text(
    session: Session,
    text: str,
    *,
    source: str,
    actor: Actor,
    now: datetime,
    settings: Settings | None = None,
) -> LoadResult:
    """Check a file (catalog, holidays or both) and store it; raise :class:`CatalogError`.

    Everything is checked before the first write; the caller's transaction makes it atomic.
    """
    data = read_toml(text, source)
    has_catalog = "obligation" in data
    has_holidays = any(k in data for k in HOLIDAY_KEYS - {"rule_source"})
    if not has_catalog and not has_holidays:
        raise CatalogError(
            source, ["the file has neither [[obligation]] nor [[day_off]] / [[holiday]] tables"]
        )
    catalog = parse_catalog(text, source=source, settings=settings) if has_catalog else None
    if not has_catalog:
        extra = [k for k in data if k not in HOLIDAY_KEYS]
        if extra:
            raise CatalogError(source, [f"unknown top-level key {k!r}" for k in extra])
    holiday_file = holidays_of(data, source) if has_holidays else None
    if catalog is not None:
        known = store.org_type_codes(session)
        bad = [
            f"obligation {o.code!r}.org_types: unknown organization type {t!r}"
            for o in catalog.obligations
            for t in o.org_types
            if known and t not in known
        ]
        if bad:
            raise CatalogError(source, bad)
    result = LoadResult()
    if catalog is not None:
        deactivated = store.save_catalog(
            session,
            rows=[(o.code, o.to_spec(), o.rule_source, o.active) for o in catalog.obligations],
            calendar=catalog.settings_value(),
            rule_source=catalog.plan.rule_source,
            actor=actor,
            now=now,
        )
        result = replace(
            result, obligations=len(catalog.obligations), deactivated=tuple(deactivated)
        )
    if holiday_file is not None:
        _save_holidays(session, holiday_file, actor=actor, now=now)
        result = replace(
            result,
            holidays=len(holiday_file.days),
            working_days=len(holiday_file.working_days),
            years=tuple(sorted(holiday_file.years)),
        )
    return result


def load_file(
    session: Session, path: Path, *, actor: Actor, now: datetime, settings: Settings | None = None
) -> LoadResult:
    """Load ``path`` (see :func:`load_text`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(str(path), [f"cannot read the file: {exc}"]) from None
    return load_text(session, text, source=str(path), actor=actor, now=now, settings=settings)


def load_default(session: Session, *, now: datetime) -> None:
    """Store the shipped catalog and holidays if none are loaded yet (``chibo demo``, tests)."""
    actor = Actor.system("calendar-defaults")
    rows, stored = store.catalog_rows(session)
    if not rows or stored is None:
        load_text(session, default_text(), source=str(DEFAULT_CATALOG), actor=actor, now=now)
    if not store.holiday_decisions(session):
        _save_holidays(session, default_holidays(), actor=actor, now=now)


def _save_holidays(session: Session, hol: HolidayFile, *, actor: Actor, now: datetime) -> None:
    parsed = hol.parsed
    store.save_holidays(
        session,
        years=hol.years,
        decisions=parsed.decisions,
        rules=parsed.rules,
        added=added_value(parsed.added) if parsed.added is not None else None,
        rule_source=hol.rule_source,
        actor=actor,
        now=now,
    )
