"""``chibo calendar`` and ``chibo reminders``: the deadline catalog and what reminders would do.

* ``chibo calendar --year 2027 [--org CODE]`` prints every due date of the year.
* ``chibo calendar load FILE`` checks a catalog (or holiday) file and puts it in force;
  ``chibo calendar check FILE`` only checks it.
* ``chibo reminders --at "2027-03-13 08:00" [--org CODE]`` prints, without sending anything,
  exactly what would be sent at that moment and to whom (the tick's own code, ``send=False``).
* ``chibo reminders --unreachable`` lists people with a role the bot cannot reach.
* ``chibo signs show`` / ``chibo signs load FILE``: the 27 signs of degradation offered in
  commitment reviews, and an admin's corrected copy.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from bot.cli import (
    EXIT_USAGE,
    CliError,
    cli_translator,
    database,
    load_settings,
    open_database,
)
from domain.access import ROLE_NAMES
from domain.calendar import (
    Catalog,
    CatalogError,
    ObligationSpec,
    days_off_in,
    default_catalog,
    default_holidays,
    file_work_calendar,
    parse_catalog,
)
from domain.clock import ManualClock, SystemClock, local_today
from domain.i18n import N_, Translator
from domain.rules.deadlines import WorkCalendar, periods_due_between
from domain.rules.holidays import RULE_SOURCE_LABOUR_CODE, Decision
from domain.rules.signs import SignsError, parse_signs_markdown
from domain.settings import Settings
from services.calendar import current, holidays, load_file, work_calendar
from storage import obligations as ob
from storage import reviews
from storage.audit import Actor
from storage.db import Database
from storage.models import OrgKind

ACTOR = Actor.system("cli:calendar")
EXIT_INVALID = 1
_TAG = re.compile(r"<[^>]+>")

#: Who owes an obligation, by level (plural: "every … of the Khối").
LEVELS: dict[OrgKind, str] = {
    OrgKind.TOP: N_("the Khối party committee"),
    OrgKind.COMMITTEE: N_("grassroots party committees"),
    OrgKind.GRASSROOTS_CELL: N_("grassroots cells"),
    OrgKind.CELL: N_("cells under a committee"),
    OrgKind.GROUP: N_("party groups"),
}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chibo calendar``, ``chibo reminders`` and ``chibo notices``."""
    _ = cli_translator().gettext
    cal = subparsers.add_parser(
        "calendar",
        help=_("the deadline calendar: what is due when, for whom, from which rule"),
    )
    cal.add_argument(
        "--year", type=int, default=None, help=_("year to print (default: this year)")
    )
    cal.add_argument("--org", default=None, help=_("only this organization and those below it"))
    cal.set_defaults(func=cmd_calendar)
    sub = cal.add_subparsers(dest="calendar_command", metavar="COMMAND", required=False)
    load = sub.add_parser("load", help=_("check a catalog or holiday file and put it in force"))
    load.add_argument(
        "file", help=_("a TOML file like domain/data/calendar.toml or holidays.toml")
    )
    load.set_defaults(func=cmd_load)
    check = sub.add_parser("check", help=_("check a catalog file without loading it"))
    check.add_argument("file", help=_("the TOML file to check"))
    check.set_defaults(func=cmd_check)

    signs = subparsers.add_parser(
        "signs", help=_("the 27 signs of degradation offered in commitment reviews")
    )
    ssub = signs.add_subparsers(dest="signs_command", metavar="COMMAND", required=True)
    sshow = ssub.add_parser("show", help=_("print the signs in force"))
    sshow.set_defaults(func=cmd_signs_show)
    sload = ssub.add_parser("load", help=_("put a corrected copy of the list in force"))
    sload.add_argument("file", help=_("a markdown file like domain/data/signs-of-degradation.md"))
    sload.set_defaults(func=cmd_signs_load)

    rem = subparsers.add_parser(
        "reminders", help=_("what reminders would be sent, and who cannot be reached")
    )
    what = rem.add_mutually_exclusive_group(required=True)
    what.add_argument("--at", help=_('local date and time, e.g. "2027-03-13 08:00"'))
    what.add_argument(
        "--unreachable",
        action="store_true",
        help=_("people with a role the bot cannot reach"),
    )
    rem.add_argument("--org", default=None, help=_("only reminders of this organization subtree"))
    rem.set_defaults(func=cmd_reminders)

    notices = subparsers.add_parser(
        "notices", help=_("notices and briefing invitations to secretaries")
    )
    nsub = notices.add_subparsers(dest="notices_command", metavar="COMMAND", required=True)
    send = nsub.add_parser(
        "send",
        help=_("send a notice or briefing invitation to a scope (the running bot delivers it)"),
    )
    send.add_argument(
        "--kind", choices=("notice", "briefing"), default="notice", help=_("what to send")
    )
    send.add_argument(
        "--scope",
        required=True,
        help=_("all | type:<org type code> | committee:<org code>"),
    )
    send.add_argument("--title", required=True, help=_("the title"))
    send.add_argument("--body", default=None, help=_("the text (optional)"))
    send.add_argument("--at", default=None, help=_('briefing date and time, "2027-03-20 08:00"'))
    send.add_argument("--place", default=None, help=_("briefing place"))
    send.set_defaults(func=cmd_notice_send)
    status = nsub.add_parser("status", help=_("who confirmed a notice and who has not"))
    status.add_argument("id", type=int, help=_("notice id (printed by: chibo notices send)"))
    status.set_defaults(func=cmd_notice_status)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"chibo: {message}", file=sys.stderr)
    return code


def plain(text: str) -> str:
    """HTML message text as a terminal shows it."""
    return html.unescape(_TAG.sub("", text))


def _day(t: Translator, day: date) -> str:
    return f"{day.isoformat()} {t.gettext(WEEKDAYS[day.weekday()])}"


# --- chibo calendar ----------------------------------------------------------------------------


def cmd_calendar(args: argparse.Namespace) -> int:
    """Print every due date of a year, with who owes it and the rule it comes from."""
    from services.scheduler import period_label, scope_ids  # Telegram loads only here

    settings = load_settings()
    t = cli_translator()
    _ = t.gettext
    year = args.year or local_today(SystemClock(), settings.tz).year
    try:
        db = open_database(settings, t)
    except CliError:
        if args.org:
            raise
        # No database yet: the shipped calendar is still worth reading before the set-up.
        catalog = default_catalog(settings)
        shipped = default_holidays()
        cal = file_work_calendar(catalog, shipped)
        days_off = days_off_in(cal, shipped.days, [year])
        _print_catalog(t, catalog, cal, year, days_off, _("the shipped catalog"))
        _print_holidays(t, year, days_off, shipped.parsed.decisions)
        return 0
    try:
        with db.transaction() as session:
            catalog = current(session, settings)
            loaded = bool(ob.catalog_rows(session)[0])
            cal = work_calendar(session, catalog)
            days_off = holidays(session, years=[year])
            decisions = ob.decisions_in_force(session)
            scope = None
            if args.org:
                try:
                    scope = scope_ids(session, [args.org])
                except LookupError:
                    return _fail(_("no organization has the code {code}.").format(code=args.org))
            orgs = ob.org_rows(session)
            items = ob.instances(
                session,
                catalog,
                cal,
                start=date(year, 1, 1),
                end=date(year, 12, 31),
                tz=settings.tz,
                org_ids=scope,
                include_done=True,
                orgs=orgs,
            )
    finally:
        db.dispose()
    stored = _("the loaded catalog") if loaded else _("the shipped catalog")
    if not orgs:
        _print_catalog(t, catalog, cal, year, days_off, stored)
    else:
        print(
            t.ngettext(
                "Due dates in {year} ({n} instance; {catalog}).",
                "Due dates in {year} ({n} instances; {catalog}).",
                len(items),
            ).format(year=year, n=len(items), catalog=stored)
        )
        lines: dict[tuple[date, str, str], list[str]] = defaultdict(list)
        for inst in items:
            mark = "" if not inst.done else " ✓"
            lines[(inst.due, inst.obligation, inst.period)].append(orgs[inst.org_id].code + mark)
        for (due, code, period), who in sorted(lines.items()):
            spec = catalog.get(code)
            assert spec is not None
            label = period_label(t, period)
            label = f" {label}" if label else ""
            print(
                f"{_day(t, due)}{_flag(t, due, days_off)}  {spec.title(t.locale)}{label}"
                f" — {', '.join(who)}"
            )
            print(f"{'':16}[{spec.rule_source}]")
    _print_holidays(t, year, days_off, decisions)
    return 0


def _flag(t: Translator, due: date, days_off: dict[date, str]) -> str:
    if due in days_off:
        return " " + t.gettext("(holiday)")
    if due.weekday() == 6:
        return " " + t.gettext("(Sunday)")
    return ""


def _owed_by(t: Translator, spec: ObligationSpec) -> str:
    who = ", ".join(t.gettext(LEVELS[k]) for k in spec.owed_by)
    if spec.org_types:
        who += " " + t.gettext("of type {types}").format(types=", ".join(spec.org_types))
    reminded = ", ".join(t.gettext(ROLE_NAMES[r]) for r in spec.remind)
    return t.gettext("owed by: {who}; reminded: {roles}").format(who=who, roles=reminded or "—")


def _print_catalog(
    t: Translator,
    catalog: Catalog,
    cal: WorkCalendar,
    year: int,
    days_off: dict[date, str],
    stored: str,
) -> None:
    """The calendar of a Khối with no organization yet: every obligation and its due dates."""
    from services.scheduler import period_label

    _ = t.gettext
    print(
        _(
            "Due dates in {year} ({catalog}). No organization is imported yet, so this is "
            "what each level will owe; after chibo admin import it lists each organization."
        ).format(year=year, catalog=stored)
    )
    rows: list[tuple[date | None, str, ObligationSpec]] = []
    for spec in catalog.active:
        if spec.due.per_member:
            rows.append((None, "", spec))
            continue
        for period, due in periods_due_between(
            spec.due,
            date(year, 1, 1),
            date(year, 12, 31),
            cal,
            None,
        ):
            rows.append((due, period.key, spec))
    for day, key, spec in sorted(rows, key=lambda r: (r[0] or date.max, r[2].code)):
        if day is None:
            head = _("per member")
            what = (
                spec.title(t.locale)
                + " — "
                + _("{days} working days after the end of probation").format(
                    days=spec.due.working_days
                )
            )
        else:
            label = period_label(t, key)
            head = _day(t, day) + _flag(t, day, days_off)
            what = spec.title(t.locale) + (f" {label}" if label else "")
            if spec.due.per_cell_day:
                what += " " + _("(or the cell's usual meeting day)")
        print(f"{head}  {what}")
        print(f"{'':16}{_owed_by(t, spec)}")
        print(f"{'':16}[{spec.rule_source}]")


def _print_holidays(
    t: Translator, year: int, days_off: dict[date, str], decisions: Iterable[Decision]
) -> None:
    """The days off of ``year`` (the law's, computed; the decided ones with their source), and
    the days worked by decision."""
    _ = t.gettext
    decisions = list(decisions)
    sources = {d.day: d.source for d in decisions}
    worked = {d.day: d for d in decisions if d.kind == "working_day" and d.day.year == year}
    in_year = sorted(d for d in days_off if d.year == year)
    if in_year:
        print(
            "\n"
            + t.ngettext(
                "Public holidays in {year} ({n} day off; [{rule}], lunar dates for UTC+7):",
                "Public holidays in {year} ({n} days off; [{rule}], lunar dates for UTC+7):",
                len(in_year),
            ).format(year=year, n=len(in_year), rule=RULE_SOURCE_LABOUR_CODE)
        )
        for day in in_year:
            source = f"  [{sources[day]}]" if sources.get(day) else ""
            print(f"  {_day(t, day)}  {days_off[day]}{source}")
    else:
        print(
            "\n"
            + _(
                "No public holidays are loaded for {year}: working days count weekends only."
            ).format(year=year)
        )
    if worked:
        print(
            "\n"
            + _("Working days decided in {year} (worked although a day off):").format(year=year)
        )
        for day in sorted(worked):
            print(f"  {_day(t, day)}  {worked[day].name}  [{worked[day].source}]")


def cmd_load(args: argparse.Namespace) -> int:
    """Check a file and put it in force; on any problem nothing changes."""
    settings = load_settings()
    t = cli_translator()
    _ = t.gettext
    path = Path(args.file)
    if not path.is_file():
        return _fail(_("file not found: {path}").format(path=path))
    try:
        with database(settings, t) as db, db.transaction() as session:
            result = load_file(
                session, path, actor=ACTOR, now=SystemClock().now(), settings=settings
            )
    except CatalogError as exc:
        print(f"chibo: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if result.obligations:
        print(_("Loaded {n} obligations from {path}.").format(n=result.obligations, path=path))
        if result.deactivated:
            print(
                _("Deactivated (not in the file): {codes}").format(
                    codes=", ".join(result.deactivated)
                )
            )
    if result.holidays or result.working_days:
        years = ", ".join(str(y) for y in result.years)
        print(_("Loaded {n} public holidays for {years}.").format(n=result.holidays, years=years))
        if result.working_days:
            print(
                _("Loaded {n} working days for {years}.").format(
                    n=result.working_days, years=years
                )
            )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check a catalog file without touching the database."""
    _ = cli_translator().gettext
    path = Path(args.file)
    try:
        catalog = parse_catalog(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError):
        return _fail(_("cannot read {path}").format(path=path))
    except CatalogError as exc:
        print(f"chibo: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(
        _("{path}: {n} obligations, no problem found.").format(
            path=path, n=len(catalog.obligations)
        )
    )
    return 0


# --- chibo signs -------------------------------------------------------------------------------


def cmd_signs_show(args: argparse.Namespace) -> int:
    """Print the signs of degradation in force, by group."""
    settings = load_settings()
    t = cli_translator()
    with database(settings, t) as db, db.transaction() as session:
        signs = reviews.signs_in_force(session)
    for sign in signs:
        mark = " (*)" if sign.short_label else ""
        print(f"{sign.code}{mark}  {sign.text}")
    return 0


def cmd_signs_load(args: argparse.Namespace) -> int:
    """Check a corrected list (3 groups × 9) and put it in force; on a problem nothing changes."""
    settings = load_settings()
    t = cli_translator()
    _ = t.gettext
    path = Path(args.file)
    try:
        signs = parse_signs_markdown(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return _fail(_("cannot read {path}").format(path=path))
    except SignsError as exc:
        print(
            "chibo: " + _("{path}: not loaded; the list in force is unchanged.").format(path=path),
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    with database(settings, t) as db, db.transaction() as session:
        reviews.save_signs(session, signs, source=str(path), actor=ACTOR, now=SystemClock().now())
    print(_("Loaded {n} signs of degradation from {path}.").format(n=len(signs), path=path))
    return 0


# --- chibo reminders ---------------------------------------------------------------------------


def parse_local(text: str, settings: Settings) -> datetime:
    """Read "2027-03-13 08:00" (or ISO with T) as local time."""
    value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    if value.tzinfo is None:
        value = value.replace(tzinfo=settings.tz)
    return value


def cmd_reminders(args: argparse.Namespace) -> int:
    """Print what would be sent at a moment (nothing is sent), or who cannot be reached."""
    settings = load_settings()
    t = cli_translator()
    _ = t.gettext
    if not args.unreachable:
        try:
            when = parse_local(args.at, settings)
        except ValueError:
            return _fail(
                _('not a date and time: {value} (e.g. "2027-03-13 08:00")').format(value=args.at)
            )
    with database(settings, t) as db:
        if args.unreachable:
            return _unreachable(db, t)
        return _preview(db, settings, t, when, args.org)


def _preview(
    db: Database, settings: Settings, t: Translator, when: datetime, org: str | None
) -> int:
    from services.context import AppContext
    from services.scheduler import tick

    _ = t.gettext
    app_ctx = AppContext(settings=settings, db=db, clock=ManualClock(when))
    try:
        result = asyncio.run(tick(app_ctx, None, send=False, org_codes=[org] if org else []))
    except LookupError:
        return _fail(_("no organization has the code {code}.").format(code=org))
    local = when.astimezone(settings.tz)
    print(
        t.ngettext(
            "At {time} ({zone}): {n} message.",
            "At {time} ({zone}): {n} messages.",
            len(result.previews),
        ).format(time=f"{local:%Y-%m-%d %H:%M}", zone=settings.timezone, n=len(result.previews))
    )
    for p in result.previews:
        print(
            "\n→ "
            + _("{name} (person {person}, chat {chat})").format(
                name=p.person, person=p.person_id, chat=p.chat_id
            )
        )
        for key in p.keys:
            print("  " + _("key {key}").format(key=key))
        for line in plain(p.text).splitlines():
            print(f"  | {line}")
        for row in p.buttons:
            print("  " + "  ".join(f"[{label}] ({data})" for label, data in row))
    return 0


UNREACHABLE = {
    "blocked": N_("blocked the bot"),
    "never_started": N_("never wrote to the bot"),
    "not_linked": N_("no Telegram account linked"),
}


def _unreachable(db: Database, t: Translator) -> int:
    _ = t.gettext
    with db.transaction() as session:
        rows = ob.unreachable(session)
    if not rows:
        print(_("Everyone with a role can be reached."))
        return 0
    print(
        t.ngettext(
            "{n} person with a role cannot be reached:",
            "{n} people with a role cannot be reached:",
            len(rows),
        ).format(n=len(rows))
    )
    for r in rows:
        since = " " + _("since {date}").format(date=t.date(r.since)) if r.since else ""
        roles = ", ".join(f"{role.value}@{code}" for role, code in r.roles)
        print(
            "  "
            + _("{name}: {reason}{since}; {roles}; undelivered: {n}").format(
                name=r.name,
                reason=_(UNREACHABLE[r.reason]),
                since=since,
                roles=roles,
                n=r.undelivered,
            )
        )
    return 0


# --- chibo notices -----------------------------------------------------------------------------

ANSWERS = {"seen": N_("read"), "attend": N_("will attend"), "decline": N_("cannot attend")}


def cmd_notice_send(args: argparse.Namespace) -> int:
    """Queue a notice or briefing invitation; the running bot delivers it within a minute."""
    from services.scheduler import send_notice

    settings = load_settings()
    t = cli_translator()
    _ = t.gettext
    try:
        scope = ob.parse_scope(args.scope)
    except ValueError:
        return _fail(
            _("--scope must be all, type:<org type code> or committee:<org code>").format()
        )
    try:
        when = parse_local(args.at, settings) if args.at else None
    except ValueError:
        return _fail(
            _('not a date and time: {value} (e.g. "2027-03-13 08:00")').format(value=args.at)
        )
    if args.kind == "briefing" and when is None:
        return _fail(_("a briefing needs --at (its date and time)").format())
    with database(settings, t) as db:
        try:
            with db.transaction() as session:
                notice_id, count = send_notice(
                    session,
                    kind=args.kind,
                    title=args.title,
                    body=args.body,
                    scope=scope,
                    event_at=when,
                    place=args.place,
                    actor=ACTOR,
                    now=SystemClock().now(),
                )
        except LookupError:
            return _fail(_("no organization has the code {code}.").format(code=scope.get("code")))
    print(
        t.ngettext(
            "Notice {id} queued for {n} secretary.",
            "Notice {id} queued for {n} secretaries.",
            count,
        ).format(id=notice_id, n=count)
    )
    print(_("See who confirmed: chibo notices status {id}").format(id=notice_id))
    return 0


def cmd_notice_status(args: argparse.Namespace) -> int:
    """Print who answered a notice and who has not."""
    settings = load_settings()
    t = cli_translator()
    _ = t.gettext
    with database(settings, t) as db, db.transaction() as session:
        status = ob.notice_status(session, args.id)
        if status is None:
            return _fail(_("no notice has the id {id}.").format(id=args.id), EXIT_INVALID)
        title, kind = status.notice.title, status.notice.kind
    print(_("Notice {id} ({kind}): {title}").format(id=args.id, kind=kind, title=title))
    for answer, names in status.answers.items():
        label = _(ANSWERS[answer]) if answer in ANSWERS else answer
        print(f"  {label} ({len(names)}): {', '.join(names)}")
    print(
        "  "
        + _("not answered yet ({n}): {names}").format(
            n=len(status.waiting), names=", ".join(status.waiting) or "—"
        )
    )
    return 0
