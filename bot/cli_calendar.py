"""``chibo calendar`` and ``chibo reminders``: the deadline catalog and what reminders would do.

* ``chibo calendar --year 2027 [--org CODE]`` prints every due date of the year.
* ``chibo calendar load FILE`` checks a catalog (or holiday) file and puts it in force;
  ``chibo calendar check FILE`` only checks it.
* ``chibo reminders --at "2027-03-13 08:00" [--org CODE]`` prints, without sending anything,
  exactly what would be sent at that moment and to whom (the tick's own code, ``send=False``).
* ``chibo reminders --unreachable`` lists people with a role the bot cannot reach.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from bot.cli import EXIT_USAGE, load_settings
from domain.clock import ManualClock, SystemClock, local_today
from domain.i18n import translator
from domain.rules.holidays import RULE_SOURCE_LABOUR_CODE
from domain.rules.signs import SignsError, parse_signs_markdown
from domain.settings import Settings
from services.calendar import (
    CatalogError,
    current,
    holidays,
    load_file,
    parse_catalog,
    work_calendar,
)
from services.scheduler import period_label
from storage import obligations as ob
from storage import reviews
from storage.audit import Actor
from storage.db import Database
from storage.migrate import is_up_to_date

ACTOR = Actor.system("cli:calendar")
EXIT_INVALID = 1
_TAG = re.compile(r"<[^>]+>")


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chibo calendar`` and ``chibo reminders``."""
    cal = subparsers.add_parser("calendar", help="the deadline calendar")
    cal.add_argument("--year", type=int, default=None, help="year to print (default: this year)")
    cal.add_argument("--org", default=None, help="only this organization and those below it")
    cal.set_defaults(func=cmd_calendar)
    sub = cal.add_subparsers(dest="calendar_command", required=False)
    load = sub.add_parser("load", help="check a catalog or holiday file and put it in force")
    load.add_argument("file", help="a TOML file like domain/data/calendar.toml or holidays.toml")
    load.set_defaults(func=cmd_load)
    check = sub.add_parser("check", help="check a catalog file without loading it")
    check.add_argument("file")
    check.set_defaults(func=cmd_check)

    signs = subparsers.add_parser("signs", help="the 27 signs of degradation offered in reviews")
    ssub = signs.add_subparsers(dest="signs_command", required=True)
    sshow = ssub.add_parser("show", help="print the signs in force")
    sshow.set_defaults(func=cmd_signs_show)
    sload = ssub.add_parser("load", help="put a corrected copy of the list in force")
    sload.add_argument("file", help="a markdown file like domain/data/signs-of-degradation.md")
    sload.set_defaults(func=cmd_signs_load)

    rem = subparsers.add_parser("reminders", help="what reminders would be sent, reachability")
    what = rem.add_mutually_exclusive_group(required=True)
    what.add_argument("--at", help='local date and time, e.g. "2027-03-13 08:00"')
    what.add_argument(
        "--unreachable", action="store_true", help="people with a role the bot cannot reach"
    )
    rem.add_argument("--org", default=None, help="only reminders of this organization subtree")
    rem.set_defaults(func=cmd_reminders)

    notices = subparsers.add_parser("notices", help="notices and briefings to secretaries")
    nsub = notices.add_subparsers(dest="notices_command", required=True)
    send = nsub.add_parser("send", help="send a notice or briefing invitation to a scope")
    send.add_argument("--kind", choices=("notice", "briefing"), default="notice")
    send.add_argument(
        "--scope", required=True, help="all | type:<org type code> | committee:<org code>"
    )
    send.add_argument("--title", required=True)
    send.add_argument("--body", default=None)
    send.add_argument("--at", default=None, help='briefing date and time, "2027-03-20 08:00"')
    send.add_argument("--place", default=None)
    send.set_defaults(func=cmd_notice_send)
    status = nsub.add_parser("status", help="who confirmed a notice and who has not")
    status.add_argument("id", type=int)
    status.set_defaults(func=cmd_notice_status)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"chibo: {message}", file=sys.stderr)
    return code


def _open(settings: Settings) -> Database | None:
    db = Database.from_url(settings.database_url)
    try:
        ok = is_up_to_date(db.engine)
    except Exception as exc:  # noqa: BLE001 - any failure: tell the operator
        print(f"chibo: cannot open the database: {exc}", file=sys.stderr)
        return None
    if not ok:
        print(
            "chibo: the database schema is not up to date. Run: chibo db upgrade", file=sys.stderr
        )
        return None
    return db


def plain(text: str) -> str:
    """HTML message text as a terminal shows it."""
    return html.unescape(_TAG.sub("", text))


# --- chibo calendar ----------------------------------------------------------------------------


def cmd_calendar(args: argparse.Namespace) -> int:
    """Print every due date of a year, with the organizations and the rule each comes from."""
    settings = load_settings()
    db = _open(settings)
    if db is None:
        return EXIT_USAGE
    year = args.year or local_today(SystemClock(), settings.tz).year
    with db.transaction() as session:
        catalog = current(session, settings)
        loaded = bool(ob.catalog_rows(session)[0])
        cal = work_calendar(session, catalog)
        days_off = holidays(session, years=[year])
        decisions = ob.decisions_in_force(session)
        worked = {d.day: d for d in decisions if d.kind == "working_day"}
        sources = {d.day: d.source for d in decisions}
        scope = None
        if args.org:
            from services.scheduler import scope_ids

            try:
                scope = scope_ids(session, [args.org])
            except LookupError:
                return _fail(f"no organization with code {args.org!r}")
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
    stored = "the loaded catalog" if loaded else "the shipped default"
    t = translator(settings.locale)
    print(f"Due dates in {year} ({len(items)} instances; {stored}).")
    lines: dict[tuple[date, str, str], list[str]] = defaultdict(list)
    for inst in items:
        mark = "" if not inst.done else " ✓"
        lines[(inst.due, inst.obligation, inst.period)].append(orgs[inst.org_id].code + mark)
    for (due, code, period), who in sorted(lines.items()):
        spec = catalog.get(code)
        assert spec is not None
        label = period_label(t, period)
        label = f" {label}" if label else ""
        flag = " (holiday)" if due in days_off else (" (Sunday)" if due.weekday() == 6 else "")
        print(f"{due.isoformat()} {due:%a}{flag}  {spec.title_vi}{label} — {', '.join(who)}")
        print(f"{'':16}[{spec.rule_source}]")
    print(
        f"\nPublic holidays in {year} ({len(days_off)} days off; "
        f"[{RULE_SOURCE_LABOUR_CODE}], lunar dates for UTC+7):"
    )
    for day, name in days_off.items():
        source = f"  [{sources[day]}]" if sources.get(day) else ""
        print(f"  {day.isoformat()} {day:%a}  {name}{source}")
    in_year = sorted(d for d in worked if d.year == year)
    if in_year:
        print(f"\nWorking days decided in {year} (worked although a day off):")
        for day in in_year:
            print(f"  {day.isoformat()} {day:%a}  {worked[day].name}  [{worked[day].source}]")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    """Check a file and put it in force; on any problem nothing changes."""
    settings = load_settings()
    db = _open(settings)
    if db is None:
        return EXIT_USAGE
    path = Path(args.file)
    try:
        with db.transaction() as session:
            result = load_file(
                session, path, actor=ACTOR, now=SystemClock().now(), settings=settings
            )
    except CatalogError as exc:
        print(f"chibo: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if result.obligations:
        print(f"Loaded {result.obligations} obligations from {path}.")
        if result.deactivated:
            print("Deactivated (not in the file): " + ", ".join(result.deactivated))
    if result.holidays or result.working_days:
        years = ", ".join(str(y) for y in result.years)
        print(f"Loaded {result.holidays} public holidays for {years}.")
        if result.working_days:
            print(f"Loaded {result.working_days} working days for {years}.")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check a catalog file without touching the database."""
    path = Path(args.file)
    try:
        catalog = parse_catalog(path.read_text(encoding="utf-8"), source=str(path))
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc}")
    except CatalogError as exc:
        print(f"chibo: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{path}: {len(catalog.obligations)} obligations, no problem found.")
    return 0


# --- chibo signs -------------------------------------------------------------------------------


def cmd_signs_show(args: argparse.Namespace) -> int:
    """Print the signs of degradation in force, by group."""
    settings = load_settings()
    db = _open(settings)
    if db is None:
        return EXIT_USAGE
    with db.transaction() as session:
        signs = reviews.signs_in_force(session)
    for sign in signs:
        mark = " (*)" if sign.short_label else ""
        print(f"{sign.code}{mark}  {sign.text}")
    return 0


def cmd_signs_load(args: argparse.Namespace) -> int:
    """Check a corrected list (3 groups × 9) and put it in force; on a problem nothing changes."""
    settings = load_settings()
    db = _open(settings)
    if db is None:
        return EXIT_USAGE
    path = Path(args.file)
    try:
        signs = parse_signs_markdown(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {path}: {exc}")
    except SignsError as exc:
        print(f"chibo: {path}: not loaded; the list in force is unchanged.", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    with db.transaction() as session:
        reviews.save_signs(session, signs, source=str(path), actor=ACTOR, now=SystemClock().now())
    print(f"Loaded {len(signs)} signs of degradation from {path}.")
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
    db = _open(settings)
    if db is None:
        return EXIT_USAGE
    if args.unreachable:
        return _unreachable(db)
    try:
        when = parse_local(args.at, settings)
    except ValueError:
        return _fail(f'not a date and time: {args.at!r} (e.g. "2027-03-13 08:00")')
    import asyncio

    from services.context import AppContext
    from services.scheduler import tick

    app_ctx = AppContext(settings=settings, db=db, clock=ManualClock(when))
    try:
        result = asyncio.run(
            tick(app_ctx, None, send=False, org_codes=[args.org] if args.org else [])
        )
    except LookupError:
        return _fail(f"no organization with code {args.org!r}")
    local = when.astimezone(settings.tz)
    print(f"At {local:%Y-%m-%d %H:%M} ({settings.timezone}): {len(result.previews)} message(s).")
    for p in result.previews:
        print(f"\n→ {p.person} (person {p.person_id}, chat {p.chat_id})")
        for key in p.keys:
            print(f"  key {key}")
        for line in plain(p.text).splitlines():
            print(f"  | {line}")
        for row in p.buttons:
            print("  " + "  ".join(f"[{label}] ({data})" for label, data in row))
    return 0


def _unreachable(db: Database) -> int:
    with db.transaction() as session:
        rows = ob.unreachable(session)
    if not rows:
        print("Everyone with a role can be reached.")
        return 0
    reasons = {
        "blocked": "blocked the bot",
        "never_started": "never wrote to the bot",
        "not_linked": "no Telegram account linked",
    }
    print(f"{len(rows)} people with a role cannot be reached:")
    for r in rows:
        since = f" since {r.since:%Y-%m-%d}" if r.since else ""
        roles = ", ".join(f"{role.value}@{code}" for role, code in r.roles)
        print(f"  {r.name}: {reasons[r.reason]}{since}; {roles}; undelivered: {r.undelivered}")
    return 0


# --- chibo notices -----------------------------------------------------------------------------


def cmd_notice_send(args: argparse.Namespace) -> int:
    """Queue a notice or briefing invitation; the running bot delivers it within a minute."""
    from services.scheduler import send_notice

    settings = load_settings()
    db = _open(settings)
    if db is None:
        return EXIT_USAGE
    try:
        scope = ob.parse_scope(args.scope)
        when = parse_local(args.at, settings) if args.at else None
    except ValueError as exc:
        return _fail(str(exc))
    if args.kind == "briefing" and when is None:
        return _fail("a briefing needs --at (its date and time)")
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
        return _fail(f"no organization with code {scope.get('code')!r}")
    print(f"Notice {notice_id} queued for {count} secretaries.")
    print(f"See who confirmed: chibo notices status {notice_id}")
    return 0


def cmd_notice_status(args: argparse.Namespace) -> int:
    """Print who answered a notice and who has not."""
    settings = load_settings()
    db = _open(settings)
    if db is None:
        return EXIT_USAGE
    with db.transaction() as session:
        status = ob.notice_status(session, args.id)
        if status is None:
            return _fail(f"no notice {args.id}", EXIT_INVALID)
        title, kind = status.notice.title, status.notice.kind
    print(f"Notice {args.id} ({kind}): {title}")
    labels = {"seen": "read", "attend": "will attend", "decline": "cannot attend"}
    for answer, names in status.answers.items():
        print(f"  {labels.get(answer, answer)} ({len(names)}): {', '.join(names)}")
    print(f"  not answered yet ({len(status.waiting)}): {', '.join(status.waiting) or '—'}")
    return 0
