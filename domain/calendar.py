"""The deadline catalog as data: read and check a TOML file, and the shipped defaults.

The shipped default (``domain/data/calendar.toml``) reproduces DOMAIN.md's table; public holidays
(``domain/data/holidays.toml``) come in the same format. A file is checked completely and every
problem listed (:class:`CatalogError`). Pure: storing a catalog and reading back the one in force
is :mod:`services.calendar`'s work.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from domain.rules.deadlines import (
    CANDIDATE_KINDS,
    ROLL_KINDS,
    RULE_SOURCE_HOLIDAYS,
    RULE_SOURCE_WEEKEND,
    WEEKDAY_NAMES,
    DigestRule,
    DueRule,
    ReminderPlan,
    RuleError,
    WorkCalendar,
    validate_rule,
    weekdays,
)
from domain.rules.holidays import (
    HolidayDecisions,
    HolidayFileError,
    added_value,
    parse_holiday_data,
    rules_from,
)
from domain.rules.reporting import COMMITTEE_REPORT_KINDS, submits_report
from domain.settings import Settings
from domain.vocab import OrgKind, Role

DATA = Path(__file__).parent / "data"
DEFAULT_CATALOG = DATA / "calendar.toml"
DEFAULT_HOLIDAYS = DATA / "holidays.toml"

#: Records that end an obligation's reminders (see :mod:`storage.obligations`).
DISCHARGES = (
    "regular_meeting",
    "thematic_meeting",
    "reviews",
    "candidate_consideration",
    "report",
    "briefing",
    "steering_review",
    "full_membership",
    "candidate_decision",
    "candidate_ceremony",
    "manual",
)
#: Conversations a reminder's button may open.
OPENS = ("", "meeting", "review", "report", "candidates")
OWNER_KINDS = (OrgKind.TOP, OrgKind.COMMITTEE, OrgKind.GRASSROOTS_CELL, OrgKind.CELL)

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_OBLIGATION_KEYS = {
    "code",
    "title_vi",
    "title_en",
    "rule_source",
    "every",
    "day",
    "month",
    "working_days",
    "if_day_off",
    "owed_by",
    "org_types",
    "remind",
    "discharged_by",
    "report_kind",
    "open",
    "essential",
    "active",
    "reminders",
}
_PLAN_KEYS = {
    "days_before",
    "on_the_day",
    "overdue_every_days",
    "overdue_for_days",
    "hour",
    "quiet_start",
    "quiet_end",
    "rule_source",
}
_TOP_KEYS = {"version", "calendar", "reminders", "digest", "obligation", "holiday", "rule_source"}
HOLIDAY_KEYS = frozenset(
    {"holiday", "day_off", "working_day", "new_holiday", "rules", "rule_source"}
)
#: A deadline on a day off moves to the next working day unless the catalog says otherwise.
DEFAULT_ROLL = "next_working_day"


class CatalogError(ValueError):
    """A calendar or holiday file that cannot be loaded; nothing was changed."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{source}: not loaded ({len(problems)} problem(s)); the calendar in force is "
            f"unchanged.\n{lines}"
        )


@dataclass(frozen=True)
class ObligationSpec:
    """One obligation of the catalog: who owes it, when, what discharges it, its reminders."""

    code: str
    title_vi: str
    title_en: str
    rule_source: str
    due: DueRule
    owed_by: tuple[OrgKind, ...]
    remind: tuple[Role, ...]
    discharged_by: str
    plan: ReminderPlan
    org_types: tuple[str, ...] = ()
    report_kind: str | None = None
    open: str = ""
    essential: bool = True
    active: bool = True

    def title(self, locale: str) -> str:
        """The obligation's name in ``locale``."""
        return self.title_en if locale == "en" else self.title_vi

    @property
    def manual(self) -> bool:
        """No record discharges it yet: reminders up to the due date only."""
        return self.discharged_by == "manual"

    def to_spec(self) -> dict[str, Any]:
        """The JSON kept in ``obligations.spec`` (read back by :func:`spec_from_row`)."""
        return {
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "every": self.due.every,
            "day": self.due.day,
            "month": self.due.month,
            "working_days": self.due.working_days,
            "if_day_off": self.due.roll,
            "owed_by": [k.value for k in self.owed_by],
            "org_types": list(self.org_types),
            "remind": [r.value for r in self.remind],
            "discharged_by": self.discharged_by,
            "report_kind": self.report_kind,
            "open": self.open,
            "essential": self.essential,
            "reminders": {**asdict(self.plan), "days_before": list(self.plan.days_before)},
        }


@dataclass(frozen=True)
class Catalog:
    """The catalog in force: obligations plus the calendar-wide settings."""

    obligations: tuple[ObligationSpec, ...]
    if_day_off: str = DEFAULT_ROLL
    #: An undone meeting counts as missing this many days after the cell's usual day (None:
    #: only once the month is over).
    meeting_grace_days: int | None = None
    weekend: frozenset[int] = frozenset({5, 6})
    weekend_source: str = RULE_SOURCE_WEEKEND
    no_reminders_on: frozenset[int] = frozenset({6})
    plan: ReminderPlan = field(default_factory=ReminderPlan)
    digest: DigestRule = field(default_factory=DigestRule)

    def get(self, code: str) -> ObligationSpec | None:
        """An obligation by code (active or not)."""
        return next((o for o in self.obligations if o.code == code), None)

    @property
    def active(self) -> tuple[ObligationSpec, ...]:
        """The obligations in force."""
        return tuple(o for o in self.obligations if o.active)

    def settings_value(self) -> dict[str, Any]:
        """The calendar-wide settings as stored in the ``settings`` table."""
        return {
            "weekend": [WEEKDAY_NAMES[d] for d in sorted(self.weekend)],
            "weekend_source": self.weekend_source,
            "if_day_off": self.if_day_off,
            "meeting_grace_days": self.meeting_grace_days,
            "no_reminders_on": [WEEKDAY_NAMES[d] for d in sorted(self.no_reminders_on)],
            "reminders": {**asdict(self.plan), "days_before": list(self.plan.days_before)},
            "digest": {
                "weekday": WEEKDAY_NAMES[self.digest.weekday],
                "after_deadlines": self.digest.after_deadlines,
                "roles": list(self.digest.roles),
            },
        }

    def work_calendar(self, holidays: Iterable[date]) -> WorkCalendar:
        """The working-day calendar with ``holidays``."""
        return WorkCalendar(
            holidays=frozenset(holidays),
            weekend=self.weekend,
            no_reminders_on=self.no_reminders_on,
        )


@dataclass(frozen=True)
class HolidayFile:
    """The public holidays of a file, by day, and the years it covers."""

    days: dict[date, str]
    years: frozenset[int]
    rule_source: str = RULE_SOURCE_HOLIDAYS
    parsed: HolidayDecisions = field(default_factory=HolidayDecisions)

    @property
    def working_days(self) -> dict[date, str]:
        """Days worked by decision (a swapped Saturday)."""
        return {d.day: d.name for d in self.parsed.decisions if d.kind == "working_day"}


def file_work_calendar(catalog: Catalog, hol: HolidayFile) -> WorkCalendar:
    """Working days under ``catalog`` with a holidays file alone (no database): the law's
    holidays computed for every year, plus the file's decisions."""
    parsed = hol.parsed
    rules_value = {**(parsed.rules or {}), "added": added_value(parsed.added or ())}
    return WorkCalendar(
        holidays=frozenset(hol.days),
        weekend=catalog.weekend,
        no_reminders_on=catalog.no_reminders_on,
        working_days=frozenset(hol.working_days),
        rules=rules_from(rules_value, catalog.weekend),
    )


def days_off_in(
    cal: WorkCalendar, decided: Mapping[date, str], years: Iterable[int] = ()
) -> dict[date, str]:
    """The days off of ``years`` by day: the law's holidays (computed by ``cal``) and the
    ``decided`` days off (without ``years``: the decided days off only)."""
    wanted = set(years)
    out = dict(decided)
    for year in sorted(wanted):
        day = date(year, 1, 1)
        while day.year == year:
            name = cal.holiday_name(day)
            if name is not None:
                out.setdefault(day, name)
            day += timedelta(days=1)
    return {d: n for d, n in sorted(out.items()) if not wanted or d.year in wanted}


# --- Parsing and checking ----------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, text: str) -> None:
        self.items.append(f"{where}: {text}" if where else text)


def read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(source, [f"not valid TOML: {exc}"]) from None


def _int(value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RuleError(f"must be a whole number from {lo} to {hi}, not {value!r}")
    return value


def _plan(raw: Any, base: ReminderPlan, where: str, problems: _Problems) -> ReminderPlan:
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        problems.add(where, "reminders must be a table")
        return base
    values: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            if key not in _PLAN_KEYS:
                raise RuleError(f"unknown key (use {', '.join(sorted(_PLAN_KEYS))})")
            if key == "days_before":
                if not isinstance(value, list):
                    raise RuleError("must be a list of days, e.g. [7, 3, 1]")
                values[key] = tuple(sorted({_int(v, 1, 90) for v in value}, reverse=True))
            elif key == "on_the_day":
                if not isinstance(value, bool):
                    raise RuleError("must be true or false")
                values[key] = value
            elif key == "overdue_every_days":
                values[key] = _int(value, 0, 31)
            elif key == "overdue_for_days":
                values[key] = _int(value, 0, 366)
            elif key in ("hour", "quiet_start", "quiet_end"):
                values[key] = _int(value, 0, 23)
            elif key == "rule_source":
                if not isinstance(value, str) or not value.strip():
                    raise RuleError("must be a non-empty text")
                values[key] = value.strip()[:200]
        except RuleError as exc:
            problems.add(f"{where}.reminders.{key}", str(exc))
    return replace(base, **values)


def _choices(value: Any, allowed: Iterable[str], what: str) -> tuple[str, ...]:
    allowed = list(allowed)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise RuleError(f"must list at least one {what}")
    out = []
    for item in items:
        if item not in allowed:
            raise RuleError(f"unknown {what} {item!r} (use {', '.join(allowed)})")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _obligation(
    raw: Any,
    index: int,
    base: ReminderPlan,
    problems: _Problems,
    default_roll: str = DEFAULT_ROLL,
) -> ObligationSpec | None:
    if not isinstance(raw, Mapping):
        problems.add(f"obligation #{index}", "must be a table ([[obligation]])")
        return None
    code = raw.get("code")
    where = f"obligation {code!r}" if isinstance(code, str) else f"obligation #{index}"
    before = len(problems.items)
    for key in raw:
        if key not in _OBLIGATION_KEYS:
            problems.add(where, f"unknown key {key!r}")
    if not isinstance(code, str) or not _CODE.match(code):
        problems.add(where, "code must be 2–40 lower-case letters, digits or _")
    texts: dict[str, str] = {}
    for key in ("title_vi", "title_en", "rule_source"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.add(where, f"{key} is missing")
        else:
            texts[key] = value.strip()[:200]
    day: int | str = raw.get("day", "last")
    month = raw.get("month")
    rule = DueRule(
        every=str(raw.get("every", "")),
        day=day,
        month=month,
        working_days=raw.get("working_days", 0) or 0,
        roll=str(raw.get("if_day_off", default_roll)),
    )
    try:
        if month is not None:
            _int(month, 1, 12)
        if isinstance(day, str) and day not in ("last", "usual"):
            raise RuleError(f'day must be 1–31, "last" or "usual", not {day!r}')
        if not isinstance(rule.working_days, int) or isinstance(rule.working_days, bool):
            raise RuleError("working_days must be a whole number")
        validate_rule(rule)
    except RuleError as exc:
        problems.add(where, f"bad date rule: {exc}")
    owed_by: tuple[OrgKind, ...] = ()
    remind: tuple[Role, ...] = ()
    try:
        owed_by = tuple(
            OrgKind(k)
            for k in _choices(raw.get("owed_by"), [k.value for k in OWNER_KINDS], "level")
        )
    except RuleError as exc:
        problems.add(f"{where}.owed_by", str(exc))
    try:
        remind = tuple(
            Role(r) for r in _choices(raw.get("remind"), [r.value for r in Role], "role")
        )
    except RuleError as exc:
        problems.add(f"{where}.remind", str(exc))
    org_types = raw.get("org_types", [])
    if not isinstance(org_types, list) or not all(isinstance(t, str) for t in org_types):
        problems.add(f"{where}.org_types", "must be a list of organization type codes")
        org_types = []
    discharged_by = raw.get("discharged_by")
    report_kind = raw.get("report_kind")
    if discharged_by not in DISCHARGES:
        problems.add(where, f"discharged_by must be one of {', '.join(DISCHARGES)}")
    elif discharged_by == "report":
        if not isinstance(report_kind, str) or not report_kind.strip() or len(report_kind) > 32:
            problems.add(where, 'discharged_by = "report" needs report_kind (≤ 32 characters)')
    elif report_kind is not None:
        problems.add(where, 'report_kind only goes with discharged_by = "report"')
    if discharged_by == "report" and isinstance(report_kind, str):
        # A level asked for a report it cannot draft and submit in /report would be reminded
        # for something it cannot do (domain.rules.reporting).
        cannot = [k.value for k in owed_by if not submits_report(k, report_kind)]
        if cannot:
            problems.add(
                where,
                f"a report {report_kind!r} cannot be submitted by {', '.join(cannot)} in "
                "/report (cells always; a grassroots party committee only its remedy reports, "
                f"{', '.join(sorted(COMMITTEE_REPORT_KINDS))}): remove it from owed_by",
            )
    if (rule.every == "probation_end") != (discharged_by == "full_membership"):
        problems.add(where, 'every = "probation_end" goes with discharged_by = "full_membership"')
    if rule.every in CANDIDATE_KINDS and discharged_by != rule.every:
        problems.add(where, f'every = "{rule.every}" goes with discharged_by = "{rule.every}"')
    if rule.every == "probation_end" and not set(owed_by) <= {
        OrgKind.CELL,
        OrgKind.GRASSROOTS_CELL,
    }:
        problems.add(where, "a member's obligation is owed by cells only")
    opens = raw.get("open", "")
    if opens not in OPENS:
        problems.add(where, f"open must be one of {', '.join(repr(o) for o in OPENS)}")
    for flag in ("essential", "active"):
        if not isinstance(raw.get(flag, True), bool):
            problems.add(where, f"{flag} must be true or false")
    plan = _plan(raw.get("reminders"), base, where, problems)
    if discharged_by == "manual":
        # Nothing records it yet: no "overdue" nagging about what chibo cannot see.
        plan = replace(plan, overdue_every_days=0)
    if len(problems.items) > before:
        return None
    return ObligationSpec(
        code=str(code),
        title_vi=texts["title_vi"],
        title_en=texts["title_en"],
        rule_source=texts["rule_source"],
        due=rule,
        owed_by=owed_by,
        remind=remind,
        discharged_by=str(discharged_by),
        plan=plan,
        org_types=tuple(org_types),
        report_kind=report_kind.strip() if isinstance(report_kind, str) else None,
        open=str(opens),
        essential=bool(raw.get("essential", True)),
        active=bool(raw.get("active", True)),
    )


def _base_plan(settings: Settings | None) -> ReminderPlan:
    if settings is None:
        return ReminderPlan()
    return ReminderPlan(
        hour=settings.reminder_hour,
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
    )


def stored_plan(raw: Any, settings: Settings | None = None) -> ReminderPlan:
    """The catalog-wide reminder plan from stored (already checked) settings."""
    return _plan(raw, _base_plan(settings), "", _Problems())


def parse_catalog(
    text: str, *, source: str = "<calendar>", settings: Settings | None = None
) -> Catalog:
    """Read and check a catalog file; raise :class:`CatalogError` listing every problem."""
    data = read_toml(text, source)
    problems = _Problems()
    for key in data:
        if key not in _TOP_KEYS:
            problems.add("", f"unknown top-level key {key!r}")
    if data.get("version", 1) != 1:
        problems.add("", "version must be 1")
    cal = data.get("calendar", {})
    default_roll = DEFAULT_ROLL
    grace: int | None = None
    weekend, no_rem = frozenset({5, 6}), frozenset({6})
    weekend_source = RULE_SOURCE_WEEKEND
    if not isinstance(cal, Mapping):
        problems.add("calendar", "must be a table")
    else:
        for key in cal:
            if key not in (
                "weekend",
                "weekend_source",
                "no_reminders_on",
                "if_day_off",
                "meeting_grace_days",
            ):
                problems.add("calendar", f"unknown key {key!r}")
        raw_grace = cal.get("meeting_grace_days")
        if raw_grace is not None:
            try:
                grace = _int(raw_grace, 0, 31)
            except RuleError as exc:
                problems.add("calendar.meeting_grace_days", str(exc))
        default_roll = str(cal.get("if_day_off", DEFAULT_ROLL))
        if default_roll not in ROLL_KINDS:
            problems.add("calendar", f"if_day_off must be one of {', '.join(ROLL_KINDS)}")
            default_roll = DEFAULT_ROLL
        try:
            weekend = weekdays(cal.get("weekend", ["sat", "sun"]))
            no_rem = weekdays(cal.get("no_reminders_on", ["sun"]))
        except RuleError as exc:
            problems.add("calendar", str(exc))
        if len(no_rem) >= 7 or len(weekend) >= 7:
            problems.add("calendar", "at least one day of the week must be open")
        weekend_source = str(cal.get("weekend_source", weekend_source))[:200]
    plan = _plan(data.get("reminders"), _base_plan(settings), "", problems)
    digest = DigestRule()
    raw_digest = data.get("digest", {})
    if not isinstance(raw_digest, Mapping):
        problems.add("digest", "must be a table")
    else:
        try:
            day = weekdays([raw_digest.get("weekday", "mon")])
            roles = _choices(
                raw_digest.get("roles", list(digest.roles)), [r.value for r in Role], "role"
            )
            after = raw_digest.get("after_deadlines", True)
            if not isinstance(after, bool):
                raise RuleError("after_deadlines must be true or false")
            digest = DigestRule(weekday=min(day), after_deadlines=after, roles=roles)
        except RuleError as exc:
            problems.add("digest", str(exc))
    raw_obligations = data.get("obligation", [])
    if not isinstance(raw_obligations, list) or not raw_obligations:
        problems.add("", "no [[obligation]] in the file")
        raw_obligations = []
    specs: list[ObligationSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_obligations, start=1):
        spec = _obligation(raw, index, plan, problems, default_roll)
        if spec is None:
            continue
        if spec.code in seen:
            problems.add(f"obligation {spec.code!r}", "the code is used twice")
        seen.add(spec.code)
        specs.append(spec)
    if problems.items:
        raise CatalogError(source, problems.items)
    return Catalog(
        obligations=tuple(specs),
        if_day_off=default_roll,
        meeting_grace_days=grace,
        weekend=weekend,
        weekend_source=weekend_source,
        no_reminders_on=no_rem,
        plan=plan,
        digest=digest,
    )


def parse_holidays(text: str, *, source: str = "<holidays>") -> HolidayFile:
    """Read and check a holiday file; raise :class:`CatalogError` listing every problem."""
    data = read_toml(text, source)
    return holidays_of(data, source)


def holidays_of(data: Mapping[str, Any], source: str) -> HolidayFile:
    """The holidays, days off and working days of a read file; :class:`CatalogError` if bad."""
    extra = [k for k in data if k not in HOLIDAY_KEYS | _TOP_KEYS]
    if extra:
        raise CatalogError(source, [f"unknown top-level key {k!r}" for k in extra])
    try:
        parsed = parse_holiday_data({k: v for k, v in data.items() if k in HOLIDAY_KEYS})
    except HolidayFileError as exc:
        raise CatalogError(source, exc.problems) from None
    return HolidayFile(
        days=parsed.days_off(),
        years=parsed.years,
        rule_source=parsed.rule_source,
        parsed=parsed,
    )


def spec_from_row(
    code: str, spec: Mapping[str, Any], rule_source: str, active: bool
) -> ObligationSpec:
    """Rebuild an obligation from its stored JSON (checked like a file)."""
    problems = _Problems()
    raw = {k: v for k, v in spec.items() if v is not None}
    raw.update({"code": code, "rule_source": rule_source, "active": active})
    base = ReminderPlan()
    result = _obligation(raw, 1, base, problems)
    if result is None:
        raise CatalogError(f"stored obligation {code!r}", problems.items)
    return result


# --- The shipped defaults ----------------------------------------------------------------------


@cache
def default_text() -> str:
    return DEFAULT_CATALOG.read_text(encoding="utf-8")


def default_catalog(settings: Settings | None = None) -> Catalog:
    """The shipped default catalog."""
    return parse_catalog(default_text(), source=str(DEFAULT_CATALOG), settings=settings)


@cache
def default_holidays() -> HolidayFile:
    """The shipped public holidays."""
    return parse_holidays(
        DEFAULT_HOLIDAYS.read_text(encoding="utf-8"), source=str(DEFAULT_HOLIDAYS)
    )
