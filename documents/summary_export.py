"""/summary's files read and built in one go: the person's scope and the summary read in one
short read-only transaction, then the workbook, the Word report, the plans' roll-up or the chart
built from them (documents are in Vietnamese).

Each ``export_*`` is a module-level function of ``(session, request)`` so that it can run in the
document process (``handlers.base.read_in_process``): the bot's process only waits on a future
and gets back the bytes, the file's name, the caption and what the audit row records. The
scope is computed from the person's roles inside the same read, so a subject outside it is
refused there (:class:`~domain.errors.NotInScope`) before anything is built.

Nothing is written here: the audit row of a file sent (:func:`storage.summary.audit_seen`) is
written by the caller in a transaction of its own, after the read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from documents import summary as render
from domain.i18n import translator
from domain.rules.periods import Period
from domain.text import truncate
from storage import report_kinds
from storage import summary as store
from storage.summary import Seen, Subject


@dataclass(frozen=True)
class ExportRequest:
    """Whose file of what: the person (their scope is read again), the period and subject,
    the day and instant of the request, the time zone and the person's language (caption)."""

    person_id: int
    period: Period
    subject: Subject
    today: date
    now: datetime
    tz: ZoneInfo
    locale: str


@dataclass(frozen=True)
class Export:
    """A file built: its bytes, name and caption (in the person's language), and its audit."""

    content: bytes
    filename: str
    caption: str
    seen: Seen


def summary_of(session: Session, req: ExportRequest) -> tuple[store.Scope, store.Summary]:
    """The person's scope (refusing a subject outside it) and the summary asked for."""
    return store.summary_for(
        session,
        person_id=req.person_id,
        period=req.period,
        subject=req.subject,
        today=req.today,
        now=req.now,
        kinds=report_kinds.KINDS.values(),
        tz=req.tz,
    )


def file_name(s: store.Summary, ext: str) -> str:
    """``tong-hop-<period>[-<code of the organization or type>].<ext>``."""
    code = s.subject.org_code if s.subject.subject.kind != "type" else s.subject.subject.type_code
    suffix = re.sub(r"[^A-Za-z0-9_-]", "", code or "")
    return f"tong-hop-{s.period.key}{'-' + suffix if suffix else ''}.{ext}"


def _export(s: store.Summary, req: ExportRequest, content: bytes, name: str) -> Export:
    t = translator(req.locale)
    caption = f"{render.subject_name(s, t)} · {render.period_title(s.period, t)}"
    seen = Seen.of(s)
    return Export(content, name, caption, seen)


def export_xlsx(session: Session, req: ExportRequest) -> Export:
    """The summary's Excel workbook."""
    _scope, s = summary_of(session, req)
    return _export(s, req, render.to_xlsx(s, translator("vi")), file_name(s, "xlsx"))


def export_docx(session: Session, req: ExportRequest) -> Export:
    """The summary's Word report, under its issuing body's header."""
    scope, s = summary_of(session, req)
    meta = store.document_meta(session, s, scope)
    return _export(s, req, render.to_docx(s, translator("vi"), meta), file_name(s, "docx"))


def export_rollup(session: Session, req: ExportRequest) -> Export:
    """The roll-up of the cells' annual plan reports of the summary's year (Word)."""
    scope, s = summary_of(session, req)
    rollup = store.plan_rollup(session, scope=scope, year=s.period.year, today=req.today)
    meta = store.document_meta(session, s, scope)
    name = file_name(s, "docx").replace("tong-hop-", "tong-hop-bc-ke-hoach-")
    return _export(s, req, render.rollup_docx(rollup, translator("vi"), meta), name)


def export_png(session: Session, req: ExportRequest) -> Export:
    """The chart of the cells' meetings month by month over the summary's year."""
    _scope, s = summary_of(session, req)
    vi = translator("vi")
    chart = store.chart_data(session, s)
    title = vi.gettext("Party-cell meetings, {year} — {name}").format(
        year=s.period.year, name=truncate(render.subject_name(s, vi), 60)
    )
    return _export(s, req, render.to_png(chart, vi, title), "")
