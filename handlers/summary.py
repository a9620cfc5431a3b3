"""/summary (/tonghop): the figures of the person's scope for a month, a quarter or a year.

Every screen is one callback ``sum:<view>:<period>:<subject>:<page>`` (≤ 64 bytes), e.g.
``sum:m:2026-11:-:0`` (the headline of the whole scope) or ``sum:miss:2026-Q4:o12:1`` (page 2 of
the cells of organization 12 missing a regular meeting). Nothing in the data is trusted: every
press recomputes the presser's scope from their roles *now* and checks the subject against it,
so a revoked role or forged data gets a refusal. ``sum:open`` (the reminders digest's button)
opens the current month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler

from documents import pipeline as pipeline_doc
from documents import summary as render
from documents import summary_export as export
from documents.summary_export import Export, ExportRequest
from domain.errors import NotInScope, StaleAction
from domain.i18n import N_, Translator, translator
from domain.rules.periods import Period, PeriodError, month_of, parse_period
from domain.text import h, truncate
from handlers.base import (
    Context,
    Env,
    Handlers,
    Keyboard,
    button,
    command,
    read_in_process,
    send,
    show,
)
from handlers.callbacks import Family, Field
from storage import report_kinds
from storage import summary as store
from storage.summary import Subject

PREFIX = "sum"


def _period(value: str) -> Period:
    try:
        return parse_period(value)
    except PeriodError as exc:
        raise StaleAction() from exc


def _subject(value: str) -> Subject:
    try:
        return Subject.parse(value)
    except ValueError as exc:
        raise StaleAction() from exc


#: Every summary screen: ``sum:<view>:<period>:<subject>:<page>``; and the digest's button.
SCREEN = Family(
    PREFIX,
    (
        Field(r"[a-z]{1,5}", str),
        Field(r"\d{4}(?:-Q[1-4]|-\d{2})?", _period, lambda p: p.key),
        Field(r"(?:-|o\d{1,10}|t[a-z0-9_]{1,32})", _subject, lambda s: s.key),
        Field(r"\d{1,4}", int),
    ),
)
OPEN_SCREEN = Family(f"{PREFIX}:open")
OPEN = OPEN_SCREEN.data()
PATTERN = SCREEN.pattern
#: Lines (and buttons) per page of a breakdown: 20 lines stay far below 4,096 characters.
GROUPS_PER_PAGE = 20
#: Views that name members: each look is audited (DOMAIN.md, "Personal data").
NAMING_VIEWS = frozenset({"abs", "sign"})


class Viewer(Protocol):
    """What a summary screen needs of the person looking at it: their language and today
    (the bot's :class:`Env`, or :class:`_Looking` in the document process)."""

    @property
    def t(self) -> Translator: ...

    def today(self) -> date: ...


@dataclass(frozen=True)
class _Looking:
    """The :class:`Viewer` of a screen rendered in the document process."""

    t: Translator
    day: date

    def today(self) -> date:
        return self.day


def data(view: str, period: Period, subject: Subject, page: int = 0) -> str:
    """Callback data of a summary screen."""
    return SCREEN.data(view, period, subject, page)


def _parse(raw: str | None) -> tuple[str, Period, Subject, int]:
    view, period, subject, page = SCREEN.parse(raw)
    if view not in VIEWS:
        raise StaleAction()
    return view, period, subject, page


async def _load(env: Env, period: Period, subject: Subject) -> tuple[store.Scope, store.Summary]:
    def query(session: Session) -> tuple[store.Scope, store.Summary]:
        return store.summary_for(
            session,
            person_id=env.who.person_id,
            period=period,
            subject=subject,
            today=env.today(),
            now=env.now(),
            kinds=report_kinds.KINDS.values(),
            tz=env.app.settings.tz,
        )

    return await env.read(query)


def _nav_rows(env: Viewer, s: store.Summary, view: str) -> list[list[tuple[str, str]]]:
    _ = env.t.gettext
    nav = render.period_nav(s.period, env.today())
    subject = s.subject.subject
    step = []
    prev = nav["prev"]
    assert prev is not None
    step.append(("« " + render.period_title(prev, env.t), data(view, prev, subject)))
    if nav["next"] is not None:
        step.append(
            (render.period_title(nav["next"], env.t) + " »", data(view, nav["next"], subject))
        )
    kinds = []
    for kind, label in (("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year"))):
        target = nav[kind]
        assert target is not None
        mark = "• " if s.period.kind == kind else ""
        kinds.append((mark + label, data(view, target, subject)))
    return [step, kinds]


def _main_rows(env: Viewer, s: store.Summary) -> Keyboard:
    _ = env.t.gettext
    f = s.total
    p, subj = s.period, s.subject.subject

    def b(label: str, view: str) -> tuple[str, str]:
        return (label, data(view, p, subj))

    rows: list[list[tuple[str, str]]] = _nav_rows(env, s, "m")
    if f.cells:
        rows += [
            [
                b(_("🗓 Missing ({n})").format(n=f.cells_missing_regular), "miss"),
                b(_("👥 Attendance"), "att"),
            ],
            [
                b(_("⚠️ 3 months ({n})").format(n=f.flagged + f.warned), "abs"),
                b(_("🎖 Superior"), "sup"),
            ],
            [
                b(_("📚 Thematic ({n})").format(n=f.cells_missing_thematic), "them"),
                b(_("📝 Reviews"), "rev"),
            ],
            [
                b(_("🔎 New signs ({n})").format(n=f.new_signs_total), "sign"),
                b(_("🌱 Candidates"), "cand"),
            ],
            [
                b(_("📨 Reports ({n})").format(n=f.reports_late + f.reports_missing), "rep"),
                b(_("🏅 Models ({n})").format(n=f.cells_without_model), "mod"),
            ],
        ]
        if len(s.cells) == 1:
            cell = Subject("org", org_id=s.cells[0].id)
            rows.append([(_("📅 Month by month"), data("c", p, cell))])
        else:
            rows.append(
                [b(_("🗂 By type"), "bt"), b(_("🏛 By committee"), "bc"), b(_("📋 Cells"), "cells")]
            )
        rows.append([b(_("📥 Excel"), "x"), b(_("📄 Word"), "d"), b(_("📈 Chart"), "p")])
        if p.kind == "year" and store.PLAN_KIND in report_kinds.KINDS and len(s.cells) > 1:
            rows.append([b(_("📑 Plan reports"), "pr")])
    last = [b(_("ℹ️ How counted"), "i")]
    if subj.kind != "all":
        last.append((_("⬅ Whole scope"), data("m", p, Subject())))
    rows.append(last)
    return rows


#: The candidates' funnel screens: by organization type, by grassroots party organization and
#: by cell (paged; a button per group opens the names behind its figures), and every name.
FUNNEL_VIEWS = {"cbt": "type", "cbg": "committee", "cbc": "cell"}
NAMES_VIEW = "cnl"


def candidates_screen(env: Viewer, s: store.Summary) -> tuple[str, Keyboard]:
    """Candidates by stage and priority group, with the paged breakdowns one tap away."""
    _ = env.t.gettext
    text = render.list_page(s, env.t, "cand", 0).text
    p, subj = s.period, s.subject.subject
    rows: list[list[tuple[str, str]]] = []
    if s.pipeline is not None and s.pipeline.lists:
        n = sum(len(v) for v in s.pipeline.lists.values())
        rows.append(
            [
                (_("🗂 By type"), data("cbt", p, subj)),
                (_("🏛 By committee"), data("cbg", p, subj)),
            ]
        )
        rows.append(
            [
                (_("📋 By cell"), data("cbc", p, subj)),
                (_("👤 Every name ({n})").format(n=n), data(NAMES_VIEW, p, subj)),
            ]
        )
    rows.append([_back(env, s)])
    return text, rows


def _funnel_groups(env: Viewer, by: str, s: store.Summary) -> dict[str, tuple[str, Subject]]:
    """Group code → (name, the subject its names are shown for)."""
    locale = env.t.locale
    if by == "type":
        return {
            g.code: (g.name(locale), Subject("type", type_code=g.code))
            for g in s.by_type
            if g.code
        }
    if by == "committee":
        return {
            g.code: (g.name(locale), Subject("org", org_id=int(g.key))) for g in s.by_committee
        }
    return {r.code: (r.name, Subject("org", org_id=r.id)) for r in s.cells}


def _funnel_head(env: Viewer, s: store.Summary, title: str) -> list[str]:
    return [
        "🌱 <b>" + h(env.t.gettext(title)) + "</b>",
        h(f"{render.subject_name(s, env.t)} · {render.period_title(s.period, env.t)}"),
        "",
    ]


def _page_note(env: Viewer, page: int, pages: int, n: int) -> list[str]:
    if pages <= 1:
        return []
    return [
        "",
        h(
            env.t.gettext("Page {page}/{pages} · {n} in all").format(
                page=page + 1, pages=pages, n=n
            )
        ),
    ]


def funnel_screen(env: Viewer, view: str, s: store.Summary, page: int) -> tuple[str, Keyboard]:
    """One page of the funnel by organization type, grassroots party organization or cell:
    a line per group with its candidates by stage, and a button per group to the names."""
    _ = env.t.gettext
    by = FUNNEL_VIEWS[view]
    groups = _funnel_groups(env, by, s)
    fp = pipeline_doc.funnel_page(
        s.pipeline, env.t, by, {code: name for code, (name, _s) in groups.items()}, page
    )
    lines = _funnel_head(env, s, pipeline_doc.FUNNEL_TITLES[by])
    lines += fp.lines or [h(_("Nobody and nothing here: all clear."))]
    lines += _page_note(env, fp.page, fp.pages, fp.total)
    if fp.lines:
        lines += ["", "<i>" + h(_("Tap one for the names behind its figures.")) + "</i>"]
    buttons = [
        (truncate(groups[code][0], 30), data(NAMES_VIEW, s.period, groups[code][1]))
        for code in fp.codes
        if code in groups
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    paging = _pager(view, s, fp.page, fp.pages)
    if paging:
        rows.append(paging)
    rows.append([(_("⬅ Back"), data("cand", s.period, s.subject.subject))])
    return "\n".join(lines), rows


def names_screen(env: Viewer, s: store.Summary, page: int) -> tuple[str, Keyboard]:
    """Every candidate behind the funnel's figures of the subject, by stage, paged."""
    _ = env.t.gettext
    fp = pipeline_doc.names_page(s.pipeline, env.t, page)
    lines = _funnel_head(env, s, N_("Candidates: every name"))
    lines += fp.lines or [h(_("Nobody and nothing here: all clear."))]
    lines += _page_note(env, fp.page, fp.pages, fp.total)
    rows = []
    paging = _pager(NAMES_VIEW, s, fp.page, fp.pages)
    if paging:
        rows.append(paging)
    rows.append([(_("⬅ Back"), data("cand", s.period, s.subject.subject))])
    return "\n".join(lines), rows


def _back(env: Viewer, s: store.Summary) -> tuple[str, str]:
    return (env.t.gettext("⬅ Back"), data("m", s.period, s.subject.subject))


@dataclass(frozen=True)
class ScreenRequest:
    """A summary screen to render in the document process (picklable): the summary, asked as
    for a file, then the view and its page."""

    of: ExportRequest
    view: str
    page: int


@dataclass(frozen=True)
class ScreenOut:
    """A rendered summary screen, and what its audit row records when it names members."""

    text: str
    rows: Keyboard
    seen: store.Seen | None


#: Views whose every look is audited, as ``view_<view>``: the members' lists and the names of
#: candidates.
AUDITED_VIEWS = NAMING_VIEWS | {NAMES_VIEW}


def render_screen(v: Viewer, view: str, s: store.Summary, page: int) -> tuple[str, Keyboard]:
    """The text and buttons of summary screen ``view`` (any but a cell's months, ``c``)."""
    if view == "m":
        return render.main_text(s, v.t), _main_rows(v, s)
    if view == "cand":
        return candidates_screen(v, s)
    if view in FUNNEL_VIEWS:
        return funnel_screen(v, view, s, page)
    if view == NAMES_VIEW:
        return names_screen(v, s, page)
    if view in render.LISTS:
        return list_screen(v, view, s, page)
    if view in ("bt", "bc"):
        return breakdown_screen(v, view, s, page)
    return render.explain_text(s, v.t), [[_back(v, s)]]


def screen_in_process(session: Session, req: ScreenRequest) -> ScreenOut:
    """In the document process: the person's scope (refusing a subject outside it), the
    summary and its screen. A year of the whole Khối is seconds of work; the bot only waits."""
    _scope, s = export.summary_of(session, req.of)
    looking = _Looking(translator(req.of.locale), req.of.today)
    text, rows = render_screen(looking, req.view, s, req.page)
    seen = store.Seen.of(s) if req.view in AUDITED_VIEWS else None
    return ScreenOut(text, rows, seen)


async def _screen(
    update: Update,
    context: Context,
    env: Env,
    view: str,
    period: Period,
    subject: Subject,
    page: int = 0,
    *,
    new: bool = False,
) -> None:
    """Read, build and show a summary screen: the summary is read and the screen rendered in
    the document process; a look at names is audited before it is shown."""
    req = ScreenRequest(_request(env, period, subject), view, page)
    out = await read_in_process(env.db, screen_in_process, req)
    if out.seen is not None:
        await _audit(env, f"view_{view}", out.seen)
    if new:
        await send(env, context, out.text, out.rows)
    else:
        await show(update, env, context, out.text, out.rows)


def _request(env: Env, period: Period, subject: Subject) -> ExportRequest:
    """The summary of ``subject`` for ``period``, as the person sees it today."""
    return ExportRequest(
        person_id=env.who.person_id,
        period=period,
        subject=subject,
        today=env.today(),
        now=env.now(),
        tz=env.app.settings.tz,
        locale=env.t.locale,
    )


async def _audit(env: Env, what: str, seen: store.Seen) -> None:
    """The audit row of a look at, or an export of, a summary naming members."""
    actor, now = env.who.actor(), env.now()
    await env.run(
        lambda session: store.audit_seen(session, actor=actor, what=what, seen=seen, now=now)
    )


@command("summary")
async def summary_command(update: Update, context: Context, env: Env) -> None:
    """Shows the headline figures of the sender's scope for the current month."""
    await env.load()  # who and their language, off the event loop; the screen is built elsewhere
    await _screen(update, context, env, "m", month_of(env.today()), Subject(), new=True)


def list_screen(env: Viewer, view: str, s: store.Summary, page: int) -> tuple[str, Keyboard]:
    """One page of a list behind a figure: its lines, a button per cell shown, ‹ ›."""
    pg = render.list_page(s, env.t, view, page)
    rows: list[list[tuple[str, str]]] = []
    cells = [(label, data("m", s.period, Subject("org", org_id=cid))) for label, cid in pg.cells]
    for i in range(0, len(cells), 3):
        rows.append(cells[i : i + 3])
    paging = _pager(view, s, pg.page, pg.pages)
    if paging:
        rows.append(paging)
    rows.append([_back(env, s)])
    return pg.text, rows


def _pager(view: str, s: store.Summary, page: int, pages: int) -> list[tuple[str, str]]:
    """The ‹ › buttons of a paged screen."""
    subject = s.subject.subject
    paging = []
    if page > 0:
        paging.append(("‹", data(view, s.period, subject, page - 1)))
    if page + 1 < pages:
        paging.append(("›", data(view, s.period, subject, page + 1)))
    return paging


def breakdown_screen(env: Viewer, view: str, s: store.Summary, page: int) -> tuple[str, Keyboard]:
    """One page of the breakdown by organization type (``bt``) or by party committee (``bc``):
    :data:`GROUPS_PER_PAGE` lines and buttons, so a Khối of any size fits Telegram's limits."""
    by_type = view == "bt"
    groups = s.by_type if by_type else s.by_committee
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = groups[page * GROUPS_PER_PAGE : (page + 1) * GROUPS_PER_PAGE]
    part = replace(s, by_type=shown) if by_type else replace(s, by_committee=shown)
    text, with_cells = render.breakdown_text(part, env.t, "type" if by_type else "committee")
    if pages > 1:
        text += "\n\n" + h(
            env.t.gettext("Page {page}/{pages} · {n} in all").format(
                page=page + 1, pages=pages, n=len(groups)
            )
        )
    rows: list[list[tuple[str, str]]] = []
    for g in with_cells:
        subject = (
            Subject("type", type_code=g.key) if by_type else Subject("org", org_id=int(g.key))
        )
        if by_type and not g.key:
            continue  # "not classified" is not a configured type
        rows.append([(truncate(g.name(env.t.locale), 40), data("m", s.period, subject))])
    paging = _pager(view, s, page, pages)
    if paging:
        rows.append(paging)
    rows.append([_back(env, s)])
    return text, rows


async def _cell(
    update: Update, context: Context, env: Env, s: store.Summary, scope: store.Scope
) -> None:
    subject = s.subject.subject
    if subject.kind != "org" or subject.org_id not in scope.cell_ids:
        raise NotInScope()
    assert subject.org_id is not None
    cell_id, today = subject.org_id, env.today()
    cy = await env.read(
        lambda session: store.cell_year(
            session,
            scope=scope,
            cell_id=cell_id,
            year=s.period.year,
            today=today,
            kinds=report_kinds.KINDS.values(),
        )
    )
    year = Period("year", s.period.year)
    await show(
        update,
        env,
        context,
        render.cell_text(cy, env.t),
        [[_back(env, s), (env.t.gettext("📈 Chart"), data("p", year, subject))]],
    )


#: The files a summary button sends: how each is read and built in the document process,
#: and the action its audit row records (None: not audited).
FILES: dict[str, tuple[Callable[[Session, ExportRequest], Export], str | None]] = {
    "x": (export.export_xlsx, "export_x"),
    "d": (export.export_docx, "export_d"),
    "pr": (export.export_rollup, None),
    "p": (export.export_png, None),
}


async def _file(
    update: Update, context: Context, env: Env, view: str, period: Period, subject: Subject
) -> None:
    """Sends the workbook, the Word report, the plans' roll-up or the chart (documents are in
    Vietnamese).

    The person's scope, the summary and the file are read and built in the document process,
    in one short read-only transaction of its own (a subject outside the scope is refused
    there): the bot's event loop and threads only wait. The audit row of an export is written
    afterwards, in a transaction of its own, before the file is sent.
    """
    build, audited = FILES[view]
    out = await read_in_process(env.db, build, _request(env, period, subject))
    if audited is not None:
        await _audit(env, audited, out.seen)
    caption = h(out.caption)
    if view == "p":
        await context.bot.send_photo(env.chat_id, photo=out.content, caption=caption)
    else:
        await context.bot.send_document(
            env.chat_id, document=out.content, filename=out.filename, caption=caption
        )


VIEWS = frozenset(
    {"m", "bt", "bc", "c", "x", "d", "p", "pr", "i", *render.LISTS, *FUNNEL_VIEWS, NAMES_VIEW}
)


@button
async def summary_button(update: Update, context: Context, env: Env) -> None:
    """Shows the screen a summary button asks for, after checking the presser's scope."""
    assert update.callback_query is not None
    await env.load()  # who and their language, off the event loop; the screen is built elsewhere
    raw = update.callback_query.data
    if raw == OPEN:
        await _screen(update, context, env, "m", month_of(env.today()), Subject(), new=True)
        return
    view, period, subject, page = _parse(raw)
    if view in FILES:
        await _file(update, context, env, view, period, subject)
    elif view == "c":
        scope, s = await _load(env, period, subject)  # one cell: a short read
        await _cell(update, context, env, s, scope)
    else:
        await _screen(update, context, env, view, period, subject, page)


def handlers() -> Handlers:
    """The handlers of this module."""
    return [
        CommandHandler(["summary", "tonghop"], summary_command),
        OPEN_SCREEN.handler(summary_button),
        SCREEN.handler(summary_button),
    ]
