"""``chibo summary``: the summary of a period from the command line, as text, JSON or a file.

    chibo summary --period 2026-11 | 11/2026 | 2026-Q4 | 2026 [--org CODE]
                  [--format text|json|xlsx|docx|png] [--out FILE] [--today YYYY-MM-DD]

The scope is the organization ``--org`` and everything below it (default: the top
organization). The command line is for the office that runs chibo, so it reads the database
directly; exports that name members are audited as ``cli:summary``. Bad input — an unreadable
period, a period that has not started, an unknown organization — is one line on stderr and
exit status 2. Messages are Vietnamese unless ``--lang en``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.cli import EXIT_USAGE, cli_translator, database, load_settings
from domain.clock import SystemClock, local_today
from domain.errors import ChiboError
from domain.i18n import SUPPORTED, Translator, translator
from domain.rules.periods import Period, PeriodError, parse_period
from storage import report_kinds
from storage import summary as store
from storage.audit import Actor
from storage.db import Database
from storage.models import Organization, OrgKind
from storage.orgs import by_code

ACTOR = Actor.system("cli:summary")
FORMATS = ("text", "json", "xlsx", "docx", "png")
BINARY = ("xlsx", "docx", "png")


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chibo summary``."""
    _ = cli_translator().gettext
    cmd = subparsers.add_parser(
        "summary", help=_("figures of a period: text, JSON, Excel, Word report or chart")
    )
    cmd.add_argument("--period", required=True, help=_("2026-11 (or 11/2026), 2026-Q4 or 2026"))
    cmd.add_argument("--org", default=None, help=_("organization code (default: the top one)"))
    cmd.add_argument("--format", choices=FORMATS, default="text", help=_("output format"))
    cmd.add_argument(
        "--out", default=None, help=_("file to write (text and json default to the screen)")
    )
    cmd.add_argument(
        "--today",
        default=None,
        help=_("count as if today were YYYY-MM-DD (to reproduce an earlier summary)"),
    )
    cmd.add_argument("--lang", choices=SUPPORTED, default=None, help=_("message language"))
    cmd.set_defaults(func=cmd_summary)


def _fail(message: str) -> int:
    print(f"chibo summary: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_summary(args: argparse.Namespace) -> int:
    """Print or write the summary of a period."""
    settings = load_settings()
    t = cli_translator(args.lang)
    _ = t.gettext
    try:
        period = parse_period(args.period)
    except PeriodError:
        return _fail(
            _('"{period}" is not a period: use 2026-11 (or 11/2026), 2026-Q4 or 2026.').format(
                period=args.period
            )
        )
    if args.today:
        try:
            today = date.fromisoformat(args.today)
        except ValueError:
            return _fail(_("--today takes a date as YYYY-MM-DD.").format())
    else:
        today = local_today(SystemClock(), settings.tz)
    if period.start > today:
        return _fail(
            _("{period} has not started yet (today is {today}): there are no figures.").format(
                period=period.key, today=t.date(today)
            )
        )
    with database(settings, t) as db:
        return _run(args, db, t, period, today, settings.tz)


def _run(
    args: argparse.Namespace,
    db: Database,
    t: Translator,
    period: Period,
    today: date,
    tz: object,
) -> int:
    # The document builders (openpyxl, python-docx, matplotlib) load only for this command.
    from documents import summary as render

    _ = t.gettext
    fmt: str = args.format
    out: str | None = args.out
    with db.transaction() as session:
        if args.org:
            org = by_code(session, args.org)
            if org is None:
                return _fail(_("no organization has the code {code}.").format(code=args.org))
        else:
            org = session.scalar(
                select(Organization)
                .where(Organization.kind == OrgKind.TOP)
                .order_by(Organization.id)
            )
            if org is None:
                return _fail(_("there is no organization yet; import the roll first."))
        scope = store.scope_under(session, {org.id}, on=min(period.end, today))
        now = SystemClock().now()
        try:
            summary = store.build_summary(
                session,
                scope=scope,
                subject=store.Subject(),
                period=period,
                today=today,
                kinds=report_kinds.KINDS.values(),
                now=now,
                tz=tz,  # type: ignore[arg-type]
            )
        except ChiboError as exc:
            return _fail(t.gettext(exc.message).format(**exc.params))
        vi = translator("vi")
        content: bytes
        if fmt == "text":
            parts = [
                render.main_text(summary, t),
                render.breakdown_text(summary, t, "type")[0],
                render.breakdown_text(summary, t, "committee")[0],
            ]
            content = (render.plain("\n\n".join(parts)) + "\n").encode()
        elif fmt == "json":
            content = (
                json.dumps(render.to_json(summary), ensure_ascii=False, indent=2) + "\n"
            ).encode()
        elif fmt == "xlsx":
            content = render.to_xlsx(summary, vi)
        elif fmt == "docx":
            content = render.to_docx(summary, vi, store.document_meta(session, summary, scope))
        else:
            title = vi.gettext("Party-cell meetings, {year} — {name}").format(
                year=period.year, name=render.subject_name(summary, vi)
            )
            content = render.to_png(store.chart_data(session, summary), vi, title)
        if fmt != "png":  # every other format names members
            store.audit_view(session, actor=ACTOR, what=f"export_{fmt}", summary=summary, now=now)
    if out is None and fmt in BINARY:
        out = f"tong-hop-{period.key}-{org.code}.{fmt}"
    if out is None or out == "-":
        if fmt in BINARY and sys.stdout.isatty():
            return _fail(
                _("a {format} file is not for the screen; use --out FILE.").format(format=fmt)
            )
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return 0
    Path(out).write_bytes(content)
    print(_("Wrote {file}.").format(file=out))
    return 0
