"""Public holidays of any year (Bộ luật Lao động 2019, Điều 112), with Vietnam's lunar calendar.

The law's list is computed, not typed per year:

* Tết Dương lịch: 1/1;
* Tết Âm lịch: 5 days around the lunar new year — by default the last day of the lunar year and
  the first 4 days of the new one (the Government fixes the exact days each year);
* Giỗ Tổ Hùng Vương: 10/3 lunar;
* 30/4 and 1/5;
* Quốc khánh: 2/9 and one adjacent day (1/9 or 3/9; by default the one recent Government notices
  chose for that weekday, configurable);
* a holiday that falls on a weekly rest day gives a day off on the next working day
  (Điều 111 khoản 3).

Lunar dates are computed for Vietnam's time zone (UTC+7) with Hồ Ngọc Đức's algorithm
(package ``lunar_vn``); a Chinese (UTC+8) calendar gives wrong dates in some years: Tết 2030 is
Saturday 02/02/2030 in Vietnam, 03/02 in China.

The Government's yearly decisions (an extra day off, a Saturday worked in exchange) and new
holidays the law adds are data the admin loads (``domain/data/holidays.toml``); they are applied
on top of this list by :class:`domain.rules.deadlines.WorkCalendar`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from lunar_vn import LunarDate, lunar_to_solar

#: Where the list of public holidays comes from.
RULE_SOURCE_LABOUR_CODE = "Bộ luật Lao động 2019, Điều 112"
#: Where the day off in lieu ("nghỉ bù") comes from.
RULE_SOURCE_SUBSTITUTE = "Bộ luật Lao động 2019, Điều 111 khoản 3 (nghỉ bù)"
#: Vietnam's time zone for the lunar calendar (hours east of UTC).
VIETNAM_TZ_HOURS = 7.0

#: The adjacent day of 2/9 chosen by recent Government notices, by weekday of 2/9 (0 = Monday):
#: +1 is 3/9, -1 is 1/9 (2021: Thu → 3/9; 2022: Fri → 1/9; 2024: Mon → 3/9; 2025: Tue → 1/9).
NATIONAL_DAY_PRACTICE = {0: +1, 1: -1, 2: -1, 3: +1, 4: -1, 5: -1, 6: +1}
NATIONAL_DAY_CHOICES = ("practice", "before", "after")


class HolidayRuleError(ValueError):
    """A holiday rule that cannot give dates."""


@dataclass(frozen=True)
class RecurringHoliday:
    """A holiday every year from ``since`` (a new one the law adds, e.g. 24/11 from 2026).

    Attributes:
        name: Its name.
        month: Month (solar, or lunar when ``lunar``).
        day: Day of the month.
        lunar: The date is in the Vietnamese lunar calendar.
        since: First year it applies.
        until: Last year it applies (None: still in force).
        source: The rule that created it.
    """

    name: str
    month: int
    day: int
    lunar: bool = False
    since: int = 1
    until: int | None = None
    source: str = ""

    def on(self, year: int) -> date | None:
        """Its date in ``year`` (None outside its years)."""
        if year < self.since or (self.until is not None and year > self.until):
            return None
        if self.lunar:
            return lunar_date(year, self.month, self.day)
        return date(year, self.month, self.day)


@dataclass(frozen=True)
class HolidayRules:
    """How the law's list becomes dates (configurable where practice varies).

    Attributes:
        weekend: Weekly rest days (0 = Monday) a holiday moves off.
        tet_days_before: Tết days before the lunar new year (1: the last day of the lunar year).
        tet_days_after: Tết days after it (4: mùng 2 to mùng 5, so 5 days in all).
        national_day_adjacent: ``practice`` (by weekday, see :data:`NATIONAL_DAY_PRACTICE`),
            ``before`` (1/9) or ``after`` (3/9).
        substitute: Give a day off in lieu when a holiday falls on a weekly rest day.
        added: Holidays the law added after 2019.
    """

    weekend: frozenset[int] = frozenset({5, 6})
    tet_days_before: int = 1
    tet_days_after: int = 3
    national_day_adjacent: str = "practice"
    substitute: bool = True
    added: tuple[RecurringHoliday, ...] = ()

    def __post_init__(self) -> None:
        if self.national_day_adjacent not in NATIONAL_DAY_CHOICES:
            raise HolidayRuleError(
                f"national_day_adjacent must be one of {', '.join(NATIONAL_DAY_CHOICES)}"
            )
        if self.tet_days_before < 0 or self.tet_days_after < 0:
            raise HolidayRuleError("Tết days cannot be negative")
        if len(self.weekend) >= 7:
            raise HolidayRuleError("at least one day of the week must be a working day")


@lru_cache(maxsize=512)
def lunar_date(year: int, month: int, day: int, leap: bool = False) -> date:
    """The solar date of a Vietnamese lunar date (lunar ``year``), computed for UTC+7."""
    return lunar_to_solar(LunarDate(day, month, year, leap), VIETNAM_TZ_HOURS)


def lunar_new_year(year: int) -> date:
    """Mùng 1 Tết of the lunar year starting in ``year`` (02/02/2030, not 03/02)."""
    return lunar_date(year, 1, 1)


def hung_kings_day(year: int) -> date:
    """Giỗ Tổ Hùng Vương, 10/3 lunar."""
    return lunar_date(year, 3, 10)


def national_day_adjacent(year: int, how: str = "practice") -> date:
    """The day off next to 2/9: 1/9 or 3/9."""
    sep2 = date(year, 9, 2)
    if how == "before":
        return sep2 - timedelta(days=1)
    if how == "after":
        return sep2 + timedelta(days=1)
    return sep2 + timedelta(days=NATIONAL_DAY_PRACTICE[sep2.weekday()])


def statutory_days(year: int, rules: HolidayRules = HolidayRules()) -> dict[date, str]:
    """The days the law names for ``year``, before days in lieu (Điều 112)."""
    out: dict[date, str] = {date(year, 1, 1): "Tết Dương lịch"}
    tet = lunar_new_year(year)
    for offset in range(-rules.tet_days_before, rules.tet_days_after + 1):
        day = tet + timedelta(days=offset)
        if offset < 0:
            label = "cuối năm Âm lịch" if offset == -1 else f"{-offset} ngày trước Tết"
        else:
            label = f"mùng {offset + 1}"
        out[day] = f"Tết Nguyên đán ({label})"
    out[hung_kings_day(year)] = "Giỗ Tổ Hùng Vương (10/3 âm lịch)"
    out[date(year, 4, 30)] = "Ngày Giải phóng miền Nam, thống nhất đất nước"
    out[date(year, 5, 1)] = "Ngày Quốc tế Lao động"
    out[date(year, 9, 2)] = "Quốc khánh"
    out.setdefault(
        national_day_adjacent(year, rules.national_day_adjacent), "Quốc khánh (ngày liền kề)"
    )
    for extra in rules.added:
        when = extra.on(year)
        if when is not None:
            out.setdefault(when, extra.name)
    return out


@lru_cache(maxsize=256)
def public_holidays(year: int, rules: HolidayRules = HolidayRules()) -> dict[date, str]:
    """The public holidays (days off) of ``year``: the law's days plus days in lieu.

    A holiday on a weekly rest day gives the next day that is neither a rest day nor a holiday
    (Điều 111 khoản 3); Tết days on a weekend move after the whole Tết block. Only the days that
    fall in ``year`` are returned (Tết of the next lunar year may start on 31/12 only in theory).
    Sources: :data:`RULE_SOURCE_LABOUR_CODE`, :data:`RULE_SOURCE_SUBSTITUTE`.
    """
    days: dict[date, str] = {}
    for y in (year - 1, year):
        days.update(statutory_days(y, rules))
    if rules.substitute:
        taken = set(days)
        for day in sorted(days):
            if day.weekday() not in rules.weekend:
                continue
            lieu = day + timedelta(days=1)
            while lieu.weekday() in rules.weekend or lieu in taken:
                lieu += timedelta(days=1)
            taken.add(lieu)
            days[lieu] = f"Nghỉ bù {days[day]}, ngày {day:%d/%m}"
    return {d: n for d, n in sorted(days.items()) if d.year == year}


# --- The Government's decisions (the admin's holidays file) -------------------------------------

DECISION_KINDS = ("day_off", "working_day")


class HolidayFileError(ValueError):
    """A holidays file with problems (each listed); nothing is loaded."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Decision:
    """One day the Government decided: an extra day off, or a day worked."""

    day: date
    kind: str  # "day_off" | "working_day"
    name: str
    source: str = ""


@dataclass(frozen=True)
class HolidayDecisions:
    """What a holidays file says: the decisions of the years it lists, and the layout rules.

    ``rules`` and ``added`` are None when the file does not set them (the ones in force stay).
    """

    decisions: tuple[Decision, ...] = ()
    years: frozenset[int] = frozenset()
    rules: dict[str, object] | None = None
    added: tuple[RecurringHoliday, ...] | None = None
    rule_source: str = RULE_SOURCE_LABOUR_CODE

    def days_off(self) -> dict[date, str]:
        """Day → name of the decided days off."""
        return {d.day: d.name for d in self.decisions if d.kind == "day_off"}


_RULE_KEYS = {"tet_days_before": int, "tet_days_after": int, "substitute": bool}


def rules_from(value: dict[str, object] | None, weekend: frozenset[int]) -> HolidayRules:
    """The :class:`HolidayRules` of a stored ``[rules]`` table plus added holidays."""
    value = dict(value or {})
    added = tuple(
        RecurringHoliday(
            name=str(a["name"]),
            month=int(a["month"]),
            day=int(a["day"]),
            lunar=bool(a.get("lunar", False)),
            since=int(a.get("since", 1)),
            until=int(a["until"]) if a.get("until") is not None else None,
            source=str(a.get("source", "")),
        )
        for a in value.pop("added", None) or []  # type: ignore[attr-defined]
        if isinstance(a, dict)
    )
    return HolidayRules(
        weekend=weekend,
        tet_days_before=int(value.get("tet_days_before", 1)),  # type: ignore[call-overload]
        tet_days_after=int(value.get("tet_days_after", 3)),  # type: ignore[call-overload]
        national_day_adjacent=str(value.get("national_day_adjacent", "practice")),
        substitute=bool(value.get("substitute", True)),
        added=added,
    )


def parse_holiday_data(data: dict[str, object]) -> HolidayDecisions:
    """Check a holidays file's tables; raise :class:`HolidayFileError` listing every problem.

    ``[[holiday]]`` (the older name) is read as ``[[day_off]]``.
    """
    problems: list[str] = []
    file_source = str(data.get("rule_source") or RULE_SOURCE_LABOUR_CODE)[:200]
    decisions: dict[date, Decision] = {}
    tables = (("holiday", "day_off"), ("day_off", "day_off"), ("working_day", "working_day"))
    for table, kind in tables:
        entries = data.get(table, [])
        if not isinstance(entries, list):
            problems.append(f"{table}: use [[{table}]] tables")
            continue
        for index, raw in enumerate(entries, start=1):
            where = f"{table} #{index}"
            if not isinstance(raw, dict):
                problems.append(f"{where}: must be a table ([[{table}]])")
                continue
            name = raw.get("name")
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{where}: name is missing")
                continue
            first = raw.get("day", raw.get("from"))
            last = raw.get("day", raw.get("to"))
            if not _is_date(first) or not _is_date(last):
                problems.append(f"{where}: give day = YYYY-MM-DD, or from = … and to = … (dates)")
                continue
            assert isinstance(first, date) and isinstance(last, date)
            if not first <= last <= first + timedelta(days=15):
                problems.append(f"{where}: to must be on or after from, at most 15 days later")
                continue
            source = str(raw.get("source") or file_source)[:200]
            day = first
            while day <= last:
                decisions[day] = Decision(day, kind, name.strip()[:120], source)
                day += timedelta(days=1)
    rules: dict[str, object] | None = None
    raw_rules = data.get("rules")
    if raw_rules is not None:
        if not isinstance(raw_rules, dict):
            problems.append("rules: must be a table")
        else:
            rules = {}
            for key, value in raw_rules.items():
                if key == "national_day_adjacent":
                    if value not in NATIONAL_DAY_CHOICES:
                        problems.append(
                            f"rules.{key}: use one of {', '.join(NATIONAL_DAY_CHOICES)}"
                        )
                    rules[key] = value
                elif key in _RULE_KEYS:
                    want = _RULE_KEYS[key]
                    ok = isinstance(value, want) and (want is bool or not isinstance(value, bool))
                    if not ok or (want is int and not 0 <= int(value) <= 10):
                        what = "true or false" if want is bool else "a number 0–10"
                        problems.append(f"rules.{key}: must be {what}")
                    rules[key] = value
                else:
                    problems.append(f"rules: unknown key {key!r}")
    added: tuple[RecurringHoliday, ...] | None = None
    raw_added = data.get("new_holiday")
    if raw_added is not None:
        items = []
        for index, raw in enumerate(raw_added if isinstance(raw_added, list) else [None], 1):
            where = f"new_holiday #{index}"
            try:
                if not isinstance(raw, dict):
                    raise HolidayRuleError("must be a table ([[new_holiday]])")
                unknown = set(raw) - {"name", "month", "day", "lunar", "since", "until", "source"}
                if unknown:
                    raise HolidayRuleError(f"unknown key(s) {', '.join(sorted(unknown))}")
                item = RecurringHoliday(
                    name=str(raw["name"]).strip()[:120],
                    month=int(raw["month"]),
                    day=int(raw["day"]),
                    lunar=bool(raw.get("lunar", False)),
                    since=int(raw.get("since", 1)),
                    until=int(raw["until"]) if raw.get("until") is not None else None,
                    source=str(raw.get("source") or file_source)[:200],
                )
                longest = 30 if item.lunar else 31
                if not item.name or not 1 <= item.month <= 12 or not 1 <= item.day <= longest:
                    raise HolidayRuleError("needs a name, a month 1–12 and a day of that month")
                item.on(max(item.since, 2000))  # a date that does not exist fails here
                items.append(item)
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
        added = tuple(items)
    if problems:
        raise HolidayFileError(problems)
    return HolidayDecisions(
        decisions=tuple(sorted(decisions.values(), key=lambda d: d.day)),
        years=frozenset(d.year for d in decisions),
        rules=rules,
        added=added,
        rule_source=file_source,
    )


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def added_value(added: tuple[RecurringHoliday, ...]) -> list[dict[str, object]]:
    """Added holidays as stored (JSON)."""
    return [
        {
            "name": a.name,
            "month": a.month,
            "day": a.day,
            "lunar": a.lunar,
            "since": a.since,
            "until": a.until,
            "source": a.source,
        }
        for a in added
    ]
