"""The reminder tick: calendar rules → due reminders and digests → outbox rows → sender.

Reminders are rows, not APScheduler jobs. One periodic JobQueue job calls :func:`tick` every
minute; a tick is safe to run twice, in two processes at once, or after a long pause:

1. :func:`plan` computes, for "now", the reminders whose slot has come and the leaders'
   digest, as outbox rows keyed ``rem:<obligation>:<period>:<org>:<person>:<slot date>`` and
   ``digest:<person>:<date>``. Only the newest slot reached counts, so a bot that was down
   across a deadline sends the overdue reminder once, not every slot it missed.
2. The rows are inserted with "ignore if the key exists" (:func:`storage.outbox.insert_ignore`).
3. The sender drains the outbox (:mod:`services.sender`): claim → send → mark sent.

Messages are rendered when they are sent (:func:`render_rows`), in the recipient's language;
a person's reminder rows claimed together (two cells, or a meeting and its reviews) become one
message. ``chibo reminders --at`` and ``chibo demo``'s ``clock`` line call :func:`tick` too;
``send=False`` computes and renders without writing or sending anything.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from domain import access
from domain.access import command_name
from domain.i18n import N_, Translator, pick_locale, translator
from domain.rules.deadlines import (
    WorkCalendar,
    current_slot,
    due_state,
    is_digest_day,
    may_send_now,
    parse_period_key,
    reminder_slots,
    sending_hour,
)
from domain.text import h
from services import calendar
from services.callbacks import ID, PERIOD, Family, choice
from services.sender import DrainStats, Sender, group_rows
from storage import access as access_facts
from storage import obligations as ob
from storage import orgs as orgs_store
from storage import outbox
from storage.models import OrgKind, Role

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application, ContextTypes

    from domain.settings import Settings
    from services.calendar import Catalog
    from services.context import AppContext

log = logging.getLogger(__name__)

REMINDER = outbox.REMINDER
DIGEST = outbox.DIGEST
#: Leaders see cells late for up to this many days in the digest.
DIGEST_LOOKBACK_DAYS = 92
#: Telegram allows 4096 characters; keep a margin for the footer.
MESSAGE_BUDGET = 3800

Keyboard = list[list[tuple[str, str]]]

#: The button that opens each conversation. The meetings/reviews/reports features are built in
#: parallel: until they publish their entry callbacks, ``rem:open:<command>`` is answered here
#: with "type /<command>". Wiring one later is a one-line change in this table.
OPEN_LABELS: dict[str, str] = {
    "meeting": N_("📝 Record the meeting"),
    "review": N_("✍️ Monthly reviews"),
    "report": N_("📄 Reports"),
    "candidates": N_("🌱 Consider the list"),
}
#: A reminder's main button: opens the conversation that records what it reminds of.
REM_OPEN = Family("rem:open", (choice(*OPEN_LABELS),))
#: The steering group's reviews recorded in /enterprises: the button of a reminder of one opens
#: the screen that records it (obligation, period); the enterprises screens use it as well.
STEERING_REVIEWS: dict[str, str] = {
    "steering_half_year": N_("🗓 Record the half-year review {period}"),
    "steering_annual": N_("🗓 Record the annual review {period}"),
}
STEERING_REVIEW = Family("ent:rv", (choice(*STEERING_REVIEWS), PERIOD))
#: "Remind me tomorrow": the outbox id of the reminder message.
REM_SNOOZE = Family("rem:snz", (ID,))
#: A page of a long /deadlines list.
DEADLINES_PAGE = Family("dl:p", (ID,))
#: A secretary's one-tap answer to a notice or briefing: the answer and the notice's id.
NOTICE_ANSWER = Family("ntc", (choice("seen", "attend", "decline"), ID))
OPEN_BUTTONS: dict[str, tuple[str, str]] = {
    name: (label, REM_OPEN.data(name)) for name, label in OPEN_LABELS.items()
}
SUMMARY_BUTTON = (N_("📊 Open the summary"), "sum:open")


# --- Planning ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a tick found due: the rows to enqueue and the instances behind them."""

    rows: list[outbox.NewRow] = field(default_factory=list)
    instances: list[ob.Instance] = field(default_factory=list)


def reminder_key(inst: ob.Instance, person_id: int, slot: date) -> str:
    """The outbox key of one reminder: obligation instance, recipient, slot."""
    return f"rem:{inst.obligation}:{inst.period}:{inst.org_id}:{person_id}:{slot.isoformat()}"


def window(catalog: Catalog, today: date) -> tuple[date, date]:
    """Due dates worth looking at today (overdue reminders, digest lookback, first reminder)."""
    active = catalog.active or (None,)
    after = max((o.plan.overdue_for_days for o in active if o), default=30)
    before = max((o.plan.horizon_days for o in active if o), default=7)
    back = max(after + 7, DIGEST_LOOKBACK_DAYS)
    return today - timedelta(days=back), today + timedelta(days=before + 1)


def plan(
    session: Session,
    *,
    settings: Settings,
    catalog: Catalog,
    cal: WorkCalendar,
    now: datetime,
    org_ids: Iterable[int] | None = None,
    digests: bool = True,
) -> Plan:
    """The reminders and digests due at ``now`` (rows to enqueue; keys may already exist)."""
    tz = settings.tz
    now_local = now.astimezone(tz)
    today = now_local.date()
    out = Plan()
    if not catalog.active or not may_send_now(now_local, cal, catalog.plan):
        return out  # nights, Sundays and holidays: nothing new until the next sending morning
    orgs = ob.org_rows(session)
    start, end = window(catalog, today)
    items = ob.instances(
        session, catalog, cal, start=start, end=end, tz=tz, org_ids=org_ids, orgs=orgs
    )
    out.instances = items
    rec = ob.recipients(session, catalog, items, orgs)
    leader_ids = ob.leaders(session, catalog.digest.roles) if digests else []
    person_ids = {r.person_id for rs in rec.values() for r in rs} | set(leader_ids)
    people = ob.people_info(session, person_ids)
    snoozed = ob.snoozes(session, person_ids, now)
    type_names = ob.org_type_names(session)
    for inst in items:
        spec = catalog.get(inst.obligation)
        if spec is None:
            continue
        for r in rec.get(inst.key, []):
            person = people.get(r.person_id)
            if person is None or not person.reachable:
                continue
            if person.mute_nonessential and not spec.essential:
                continue
            hour = sending_hour(person.reminder_hour, spec.plan)
            if now_local.hour < hour:
                continue  # not their hour yet today (even for a slot missed earlier)
            until = snoozed.get((person.id, inst.key))
            extra = [until.astimezone(tz).date()] if until is not None else []
            slots = reminder_slots(inst.due, spec.plan, cal, extra)
            slot = current_slot(slots, now_local, hour, spec.plan)
            if slot is None:
                continue
            org = orgs[inst.org_id]
            out.rows.append(
                outbox.NewRow(
                    key=reminder_key(inst, person.id, slot),
                    person_id=person.id,
                    kind=REMINDER,
                    payload={
                        "instance": inst.key,
                        "obligation": spec.code,
                        "title_vi": spec.title_vi,
                        "title_en": spec.title_en,
                        "org_id": org.id,
                        "org_name": org.name,
                        "period": inst.period,
                        "due": inst.due.isoformat(),
                        "slot": slot.isoformat(),
                        "missing": list(inst.missing),
                        "open": spec.open,
                        "fallback": r.fallback,
                    },
                    not_before=now,
                )
            )
    if digests and leader_ids:
        out.rows.extend(
            _digest_rows(
                catalog, cal, items, rec, orgs, type_names, people, leader_ids, now_local, now
            )
        )
    return out


def _digest_rows(
    catalog: Catalog,
    cal: WorkCalendar,
    items: Sequence[ob.Instance],
    rec: dict[str, list[ob.Recipient]],
    orgs: dict[int, ob.OrgRow],
    type_names: dict[str, tuple[str, str, int]],
    people: dict[int, ob.PersonInfo],
    leader_ids: Sequence[int],
    now_local: datetime,
    now: datetime,
) -> list[outbox.NewRow]:
    """One digest per leader on Mondays and the morning after each deadline, if a cell is late."""
    today = now_local.date()
    late = []
    for inst in items:
        spec = catalog.get(inst.obligation)
        org = orgs[inst.org_id]
        if spec is None or spec.manual or org.kind is OrgKind.TOP or not inst.late_on(today):
            continue
        late.append(inst)
    deadlines = [(i.late_from or i.due + timedelta(days=1)) - timedelta(days=1) for i in late]
    if not late or not is_digest_day(today, deadlines, cal, catalog.digest):
        return []
    top = next((o for o in orgs.values() if o.kind is OrgKind.TOP), None)
    cells: dict[int, dict[str, Any]] = {}
    for inst in late:
        org = orgs[inst.org_id]
        parent = orgs.get(org.parent_id) if org.parent_id is not None else None
        if org.kind is OrgKind.COMMITTEE:
            group = org
        elif parent is not None and parent.kind is OrgKind.COMMITTEE:
            group = parent
        else:
            group = None
        vi, en, sort = type_names.get(org.org_type or "", ("", "", 99))
        entry = cells.setdefault(
            org.id,
            {
                "org_id": org.id,
                "org_name": org.name,
                "org_code": org.code,
                "group_id": group.id if group else None,
                "group_name": group.name if group else (top.name if top else ""),
                "type_vi": vi,
                "type_en": en,
                "type_sort": sort,
                "no_recipient": not rec.get(inst.key)
                or all(r.fallback for r in rec.get(inst.key, [])),
                "items": [],
            },
        )
        spec = catalog.get(inst.obligation)
        assert spec is not None
        entry["items"].append(
            {
                "obligation": spec.code,
                "title_vi": spec.title_vi,
                "title_en": spec.title_en,
                "period": inst.period,
                "due": inst.due.isoformat(),
            }
        )
    payload = {
        "date": today.isoformat(),
        "cells": sorted(
            cells.values(),
            key=lambda c: (c["group_id"] is None, c["group_name"], c["type_sort"], c["org_code"]),
        ),
    }
    rows = []
    for pid in leader_ids:
        person = people.get(pid)
        if person is None or not person.reachable:
            continue
        hour = sending_hour(person.reminder_hour, catalog.plan)
        if now_local.hour < hour:
            continue
        rows.append(
            outbox.NewRow(
                key=f"digest:{pid}:{today.isoformat()}",
                person_id=pid,
                kind=DIGEST,
                payload=payload,
                not_before=now,
            )
        )
    return rows


# --- Rendering ---------------------------------------------------------------------------------


def fit(lines: Sequence[str], budget: int, more: str) -> str:
    """Join whole lines (never cutting inside HTML) up to ``budget`` characters."""
    text = "\n".join(lines)
    if len(text) <= budget:
        return text
    out: list[str] = []
    size = len(more)
    for line in lines:
        if size + len(line) + 1 > budget:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join([*out, more])


def period_label(t: Translator, key: str) -> str:
    """``2026-11`` → "11/2026", ``2026-Q4`` → "quarter 4/2026", ``2026-H1``, ``2026``."""
    if key[:1] in ("m", "c"):  # a member's or a candidate's file: no period
        return ""
    try:
        period = parse_period_key(key)
    except ValueError:
        return key
    if period.kind == "month":
        return t.month(period.year, period.index)
    if period.kind == "quarter":
        roman = ("I", "II", "III", "IV")[period.index - 1]
        return t.gettext("quarter {q}/{year}").format(q=roman, year=period.year)
    if period.kind == "half_year":
        if period.index == 1:
            return t.gettext("first half of {year}").format(year=period.year)
        return t.gettext("second half of {year}").format(year=period.year)
    return str(period.year)


def state_text(t: Translator, due: date, today: date) -> str:
    """ "due in 3 days", "due today", "2 days overdue"."""
    state = due_state(due, today)
    if state.state == "today":
        return t.gettext("due today")
    if state.state == "upcoming":
        return t.ngettext("due in {n} day", "due in {n} days", state.days).format(n=state.days)
    return t.ngettext("{n} day overdue", "{n} days overdue", state.days).format(n=state.days)


def missing_text(t: Translator, item: dict[str, Any], title: str = "") -> str:
    """What is still missing, in words ("3 members not yet reviewed for 11/2026").

    ``title`` (the obligation's name, plain text) names reports and unrecorded obligations.
    """
    what = item.get("what")
    period = period_label(t, str(item.get("period", "")))
    if what == "regular_meeting":
        return t.gettext("no regular meeting recorded for {month}").format(month=period)
    if what == "reviews":
        n = int(item.get("n", 0))
        return t.ngettext(
            "{n} member not yet reviewed for {month}",
            "{n} members not yet reviewed for {month}",
            n,
        ).format(n=n, month=period)
    if what == "candidate_consideration":
        return t.gettext("sympathizer list not yet considered for {month}").format(month=period)
    if what == "thematic_meeting":
        return t.gettext("no thematic meeting recorded for {period}").format(period=period)
    if what == "report":
        return t.gettext("{report} {period} not submitted yet").format(
            report=h(title), period=period
        )
    if what == "briefing":
        return t.gettext("no briefing notice sent for {period}").format(period=period)
    if what == "steering_review":
        return t.gettext("{review} {period} not yet recorded (/enterprises)").format(
            review=h(title), period=period
        )
    if what == "full_membership":
        ended = item.get("ended")
        return t.gettext(
            "{member}: probation ended on {date}; full membership not yet considered"
        ).format(
            member=h(item.get("member", "")),
            date=t.date(date.fromisoformat(ended)) if ended else "?",
        )
    if what in ("candidate_decision", "candidate_ceremony"):
        msg = (
            N_("{name} ({cell}): admission decision due (cell resolution of {date})")
            if what == "candidate_decision"
            else N_("{name} ({cell}): admission ceremony due (decision received on {date})")
        )
        since = item.get("since")
        return t.gettext(msg).format(
            name=h(item.get("name", "")),
            cell=h(item.get("cell", "")),
            date=t.date(date.fromisoformat(since)) if since else "?",
        )
    if what == "manual":
        return t.gettext("{title} (chibo cannot see it: ignore this if it is done)").format(
            title=h(title)
        )
    return ""


#: The order of what is missing in a reminder line: the meeting first, then what it carries.
_ORDER = {
    "regular_meeting": 0,
    "reviews": 1,
    "candidate_consideration": 2,
    "thematic_meeting": 3,
    "report": 4,
    "full_membership": 5,
    "candidate_decision": 5,
    "candidate_ceremony": 5,
    "briefing": 6,
    "steering_review": 6,
    "manual": 7,
}


def _title(payload: dict[str, Any], locale: str) -> str:
    return str(
        payload.get("title_en" if locale == "en" else "title_vi") or payload.get("obligation")
    )


def render_reminders(
    payloads: Sequence[dict[str, Any]], t: Translator, *, today: date, snooze_id: int | str | None
) -> tuple[str, Keyboard]:
    """One message for all of a person's reminders, grouped by organization."""
    seen: set[str] = set()
    by_org: dict[int, list[dict[str, Any]]] = defaultdict(list)
    names: dict[int, tuple[str, bool]] = {}
    for p in payloads:
        if p.get("instance") in seen:
            continue  # two slots of one instance claimed together: say it once
        seen.add(str(p.get("instance")))
        by_org[int(p["org_id"])].append(p)
        names[int(p["org_id"])] = (str(p.get("org_name", "")), bool(p.get("fallback")))
    lines = [t.gettext("⏰ <b>Reminder</b>")]
    opens: list[str] = []
    reviews: list[tuple[str, str]] = []
    for org_id, items in by_org.items():
        name, fallback = names[org_id]
        head = f"\n<b>{h(name)}</b>"
        if fallback:
            head += " " + t.gettext("<i>(no secretary: reminded to the party committee)</i>")
        lines.append(head)
        # One line per deadline: "deadline 05/03/2027 (due in 1 day): what is missing; …"
        by_due: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for p in sorted(items, key=lambda p: (p["due"], p["obligation"])):
            for item in p.get("missing", []):
                text = missing_text(t, item, _title(p, t.locale))
                if text:
                    by_due[p["due"]].append((_ORDER.get(item.get("what"), 9), text))
            if p.get("open") and p["open"] not in opens:
                opens.append(p["open"])
            review = (str(p.get("obligation")), str(p.get("period")))
            if (
                review[0] in STEERING_REVIEWS
                and any(i.get("what") == "steering_review" for i in p.get("missing", []))
                and review not in reviews
            ):
                reviews.append(review)
        for due_iso, missing in by_due.items():
            due = date.fromisoformat(due_iso)
            lines.append(
                t.gettext("• Deadline {date} ({state}): {missing}").format(
                    date=t.date(due),
                    state=state_text(t, due, today),
                    missing="; ".join(text for _o, text in sorted(missing)),
                )
            )
    hints = [f"/{command_name(o, t.locale)}" for o in opens]
    if hints:
        lines.append("")
        lines.append(
            t.gettext("To record it, type {commands} or use the button below.").format(
                commands=", ".join(hints)
            )
        )
    text = fit(lines, MESSAGE_BUDGET, t.gettext("(cut short: see /deadlines)"))
    rows: Keyboard = []
    buttons = [
        (t.gettext(OPEN_BUTTONS[o][0]), OPEN_BUTTONS[o][1]) for o in opens if o in OPEN_BUTTONS
    ]
    buttons += [
        (
            t.gettext(STEERING_REVIEWS[obligation]).format(period=period_label(t, period)),
            STEERING_REVIEW.data(obligation, period),
        )
        for obligation, period in reviews
    ]
    if buttons:
        rows.append(buttons[:3])
    if snooze_id is not None:
        rows.append([(t.gettext("⏰ Remind me tomorrow"), REM_SNOOZE.data(snooze_id))])
    return text, rows


def render_digest(payload: dict[str, Any], t: Translator) -> tuple[str, Keyboard]:
    """The leaders' digest: late cells grouped by party committee and organization type."""
    today = date.fromisoformat(payload["date"])
    cells = payload.get("cells", [])
    lines = [
        t.ngettext(
            "📋 <b>{n} organization is late</b> — {date}",
            "📋 <b>{n} organizations are late</b> — {date}",
            len(cells),
        ).format(n=len(cells), date=t.date(today))
    ]
    group = kind = None
    shown = 0
    for cell in cells:
        block: list[str] = []
        if cell["group_name"] != group:
            group, kind = cell["group_name"], None
            block.append(f"\n<b>{h(group)}</b>")
        type_name = cell["type_en"] if t.locale == "en" else cell["type_vi"]
        if type_name != kind:
            kind = type_name
            shown_type = type_name or t.gettext("(no organization type)")
            block.append(f"<i>{h(shown_type)}</i>")
        by_title: dict[str, list[str]] = {}
        for item in sorted(cell["items"], key=lambda i: i["due"]):
            label = period_label(t, item.get("period", ""))
            by_title.setdefault(_title(item, t.locale), []).append(label)
        parts = [
            h(title) + (f" ({h(', '.join(p for p in labels if p))})" if any(labels) else "")
            for title, labels in by_title.items()
        ]
        oldest = min(date.fromisoformat(i["due"]) for i in cell["items"])
        line = t.gettext("• <b>{org}</b> ({state}): {items}").format(
            org=h(cell["org_name"]), state=state_text(t, oldest, today), items="; ".join(parts)
        )
        if cell.get("no_recipient"):
            line += " " + t.gettext("<i>(no secretary)</i>")
        block.append(line)
        if len("\n".join(lines + block)) > MESSAGE_BUDGET - 200:
            break
        lines.extend(block)
        shown += 1
    if shown < len(cells):
        rest = len(cells) - shown
        lines.append(
            t.ngettext(
                "… and {n} more organization: see /summary.",
                "… and {n} more organizations: see /summary.",
                rest,
            ).format(n=rest)
        )
    return "\n".join(lines), [[(t.gettext(SUMMARY_BUTTON[0]), SUMMARY_BUTTON[1])]]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _param(value: Any, t: Translator, settings: Settings) -> str:
    if isinstance(value, dict) and "msgid" in value:
        text, _rows = render_generic(value, t, settings)
        return text
    if isinstance(value, bool):
        return t.gettext("yes") if value else t.gettext("no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return t.number(value, 1)
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            try:
                return t.date(date.fromisoformat(value))
            except ValueError:
                pass
        elif _ISO_DATETIME.match(value):
            try:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is not None:
                    moment = moment.astimezone(settings.tz)
                return f"{t.date(moment)} {moment:%H:%M}"
            except ValueError:
                pass
    if isinstance(value, list):
        return ", ".join(_param(v, t, settings) for v in value)
    return h(value)


def render_generic(
    payload: dict[str, Any], t: Translator, settings: Settings
) -> tuple[str, Keyboard]:
    """Render ``{"msgid", "params", "buttons"}`` (any feature's row) in the reader's language.

    ``msgid`` is an English msgid (HTML allowed); an optional ``msgid_plural`` with ``n`` uses
    ngettext. Parameters are HTML-escaped; ISO dates become 15/11/2026; a parameter that is
    itself ``{"msgid": …}`` is translated. Buttons are rows of ``[label msgid, callback data]``.
    """
    msgid = str(payload.get("msgid") or "")
    plural = payload.get("msgid_plural")
    if plural:
        text = t.ngettext(msgid, str(plural), int(payload.get("n", 1)))
    else:
        text = t.gettext(msgid) if msgid else ""
    params = {k: _param(v, t, settings) for k, v in dict(payload.get("params") or {}).items()}
    if plural and "n" not in params:
        params["n"] = str(payload.get("n", 1))
    try:
        text = text.format(**params)
    except (KeyError, IndexError, ValueError):
        log.warning("outbox payload %r does not fill its msgid", msgid)
        try:
            text = msgid.format(**params)
        except (KeyError, IndexError, ValueError):
            text = msgid
    rows: Keyboard = []
    for raw_row in payload.get("buttons") or []:
        row = []
        for button in raw_row:
            if isinstance(button, dict):
                label = button.get("text") or button.get("label") or ""
                data = button.get("data") or button.get("callback_data") or ""
            else:
                label, data = button[0], button[1]
            if label and data:
                row.append((t.gettext(str(label)), str(data)[:64]))
        if row:
            rows.append(row)
    return text or "…", rows


def render_rows(
    rows: Sequence[outbox.Claimed], *, settings: Settings, now: datetime
) -> tuple[str, Keyboard]:
    """Render one message (one group of claimed rows) in the recipient's language."""
    first = rows[0]
    t = translator(pick_locale(first.locale, None, settings.locale))
    today = now.astimezone(settings.tz).date()
    if first.kind == REMINDER:
        # A preview (chibo reminders --at) has no row id yet: show where it goes.
        snooze = first.id if first.id > 0 else "<id>"
        return render_reminders([r.payload for r in rows], t, today=today, snooze_id=snooze)
    if first.kind == DIGEST:
        return render_digest(first.payload, t)
    return render_generic(first.payload, t, settings)


# --- The tick ----------------------------------------------------------------------------------


@dataclass
class Preview:
    """A message that would be sent: to whom, and what (``chibo reminders --at``)."""

    person_id: int
    person: str
    chat_id: int | None
    keys: list[str]
    text: str
    buttons: Keyboard


@dataclass
class TickResult:
    """What one tick did."""

    planned: int = 0
    enqueued: int = 0
    previews: list[Preview] = field(default_factory=list)
    drained: DrainStats | None = None


def worker_id(app_ctx: AppContext) -> str:
    """This process's name on its outbox claims."""
    wid = app_ctx.extras.get("outbox_worker")
    if wid is None:
        wid = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        app_ctx.extras["outbox_worker"] = wid
    return str(wid)


def scope_ids(session: Session, org_codes: Iterable[str]) -> set[int] | None:
    """The organizations at or below the given codes (None: everything)."""
    codes = [c for c in org_codes if c]
    if not codes:
        return None
    roots = set()
    for code in codes:
        org = orgs_store.by_code(session, code)
        if org is None:
            raise LookupError(code)
        roots.add(org.id)
    return orgs_store.descendants(session, roots)


async def tick(
    app_ctx: AppContext,
    bot: Bot | None,
    *,
    send: bool = True,
    now: datetime | None = None,
    org_codes: Iterable[str] = (),
    max_seconds: float | None = None,
    plan_due: bool = True,
) -> TickResult:
    """Compute what is due now, enqueue it, and drain the outbox.

    With ``send=False`` nothing is written or sent: the result's ``previews`` say exactly what
    would be sent at ``now`` and to whom (the rows due already plus the new ones).
    ``plan_due=False`` only drains (the periodic job plans once an hour: slots are hourly).
    """
    settings = app_ctx.settings
    now = now or app_ctx.clock.now()
    result = TickResult()
    if not plan_due and send:
        return await _drain(app_ctx, bot, result, max_seconds)

    def planned(session: Session) -> None:
        catalog = calendar.current(session, settings)
        cal = calendar.work_calendar(session, catalog)
        scope = scope_ids(session, org_codes)
        found = plan(
            session,
            settings=settings,
            catalog=catalog,
            cal=cal,
            now=now,
            org_ids=scope,
            digests=scope is None,
        )
        result.planned = len(found.rows)
        if send:
            result.enqueued = outbox.insert_ignore(session, found.rows, now=now)
        else:
            # Read only: plan() and _preview() write nothing.
            result.previews = _preview(
                session, found.rows, settings=settings, now=now, scope=scope
            )

    # On the database's threads: planning a large Khối takes seconds, which on the event loop
    # would hold up every reply (and, at start, the first poll).
    await app_ctx.db.run(planned)
    if send:
        return await _drain(app_ctx, bot, result, max_seconds)
    return result


async def _drain(
    app_ctx: AppContext, bot: Bot | None, result: TickResult, max_seconds: float | None
) -> TickResult:
    if bot is None:
        return result
    settings = app_ctx.settings
    sender = Sender(
        app_ctx.db,
        bot,
        clock=app_ctx.clock,
        settings=settings,
        render=lambda rows, at: render_rows(rows, settings=settings, now=at),
        worker=worker_id(app_ctx),
        parallel=settings.send_parallel,
    )
    result.drained = await sender.drain(max_seconds=max_seconds)
    return result


def _preview(
    session: Session,
    rows: Sequence[outbox.NewRow],
    *,
    settings: Settings,
    now: datetime,
    scope: set[int] | None,
) -> list[Preview]:
    existing = outbox.existing_keys(session, [r.key for r in rows])
    due = outbox.pending_due(session, now=now)
    if scope is not None:
        due = [r for r in due if r.kind == REMINDER and int(r.payload.get("org_id", -1)) in scope]
    people = ob.people_info(session, {r.person_id for r in rows} | {r.person_id for r in due})
    claimed = list(due)
    for i, row in enumerate(r for r in rows if r.key not in existing):
        person = people.get(row.person_id)
        claimed.append(
            outbox.Claimed(
                id=-(i + 1),
                key=row.key,
                kind=row.kind,
                payload=row.payload,
                person_id=row.person_id,
                attempts=0,
                chat_id=person.telegram_user_id if person else None,
                locale=person.locale if person else None,
                created_at=now,
            )
        )
    claimed.sort(key=lambda r: (r.person_id, r.kind, r.key))
    out = []
    for group in group_rows(claimed):
        text, buttons = render_rows(group, settings=settings, now=now)
        person = people.get(group[0].person_id)
        out.append(
            Preview(
                person_id=group[0].person_id,
                person=person.display_name if person else "?",
                chat_id=group[0].chat_id,
                keys=[r.key for r in group],
                text=text,
                buttons=buttons,
            )
        )
    return out


# --- Periodic job ------------------------------------------------------------------------------

#: The job's period. One job for all reminders, not one job per reminder.
TICK_SECONDS = 60


async def _tick_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drains the outbox every minute and plans reminders once an hour (slots are hourly).

    A failure is logged and the next minute tries again; a failed plan is retried too.
    """
    app_ctx: AppContext = context.bot_data["app"]
    local = app_ctx.clock.now().astimezone(app_ctx.settings.tz)
    hour = (local.date(), local.hour)
    due = app_ctx.extras.get("planned_hour") != hour
    try:
        await tick(app_ctx, context.bot, max_seconds=TICK_SECONDS - 10, plan_due=due)
    except Exception:
        log.exception("reminder tick failed")
        return
    if due:
        app_ctx.extras["planned_hour"] = hour


def install(application: Application, app_ctx: AppContext) -> None:
    """Add the periodic tick to the JobQueue (once; safe with several processes)."""
    queue = application.job_queue
    if queue is None or queue.get_jobs_by_name("chibo-reminders"):
        return
    queue.run_repeating(
        _tick_job,
        interval=TICK_SECONDS,
        first=5,
        name="chibo-reminders",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": TICK_SECONDS},
    )


# --- /deadlines --------------------------------------------------------------------------------


@dataclass
class OwedItem:
    """One line of /deadlines."""

    instance: ob.Instance
    title_vi: str
    title_en: str
    org_name: str
    fallback: bool

    def title(self, locale: str) -> str:
        """The obligation's name in ``locale``."""
        return self.title_en if locale == "en" else self.title_vi


@dataclass
class Owed:
    """What a person owes: overdue and coming up, and (for leaders) late organizations."""

    overdue: list[OwedItem] = field(default_factory=list)
    upcoming: list[OwedItem] = field(default_factory=list)
    late_orgs: int | None = None


def owed_by(
    session: Session, *, settings: Settings, person_id: int, now: datetime, days: int = 30
) -> Owed:
    """What ``person_id`` must do in the next ``days`` days and what is overdue, per cell.

    The same rules as the reminders: the holders of an obligation's roles, or the committee
    above for a cell without a secretary. Leaders also get the number of late organizations.
    """
    catalog = calendar.current(session, settings)
    cal = calendar.work_calendar(session, catalog)
    today = now.astimezone(settings.tz).date()
    orgs = ob.org_rows(session)
    who = access.Holder(person_id, access_facts.grants(session, person_id))
    candidates = access.deadline_orgs(who, {o.id: o.parent_id for o in orgs.values()})
    start, _end = window(catalog, today)
    digest_roles = frozenset(Role(r) for r in catalog.digest.roles)
    leader = any(access.gets_digest(g.role, orgs[g.org_id].kind, digest_roles) for g in who.grants)
    items = ob.instances(
        session,
        catalog,
        cal,
        start=start,
        end=today + timedelta(days=days),
        tz=settings.tz,
        org_ids=None if leader else candidates,
        orgs=orgs,
    )
    rec = ob.recipients(session, catalog, items, orgs)
    out = Owed()
    late_orgs: set[int] = set()
    for inst in items:
        spec = catalog.get(inst.obligation)
        if spec is None:
            continue
        if inst.late_on(today) and not spec.manual and orgs[inst.org_id].kind is not OrgKind.TOP:
            late_orgs.add(inst.org_id)
        mine_here = [r for r in rec.get(inst.key, []) if r.person_id == person_id]
        if not mine_here:
            continue
        item = OwedItem(
            inst, spec.title_vi, spec.title_en, orgs[inst.org_id].name, mine_here[0].fallback
        )
        if inst.due < today:
            if not spec.manual or (today - inst.due).days <= spec.plan.overdue_every_days:
                out.overdue.append(item)
        else:
            out.upcoming.append(item)
    if leader:
        out.late_orgs = len(late_orgs)
    return out


def split_pages(lines: Sequence[str], budget: int) -> list[list[str]]:
    """Whole lines in pages of at most ``budget`` characters (a line is never cut)."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and size + len(line) + 1 > budget:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return pages


#: Callback data of a /deadlines page.


def render_owed(
    owed: Owed, t: Translator, *, today: date, days: int = 30, page: int = 0
) -> tuple[str, Keyboard]:
    """One page of the /deadlines screen (a long list pages with ‹ ›)."""
    lines = [t.gettext("📅 <b>Your deadlines</b> (next {days} days)").format(days=days)]
    for title, items in (
        (t.gettext("<b>⚠️ Overdue</b>"), owed.overdue),
        (t.gettext("<b>Coming up</b>"), owed.upcoming),
    ):
        if not items:
            continue
        lines.append("")
        lines.append(title)
        org = None
        for item in sorted(
            items, key=lambda i: (i.org_name, i.instance.due, i.instance.obligation)
        ):
            if item.org_name != org:
                org = item.org_name
                head = f"<b>{h(org)}</b>"
                if item.fallback:
                    head += " " + t.gettext(
                        "<i>(no secretary: reminded to the party committee)</i>"
                    )
                lines.append(head)
            inst = item.instance
            label = period_label(t, inst.period)
            lines.append(
                t.gettext("• <b>{title}</b> — deadline {date} ({state})").format(
                    title=h(item.title(t.locale)) + (f" {h(label)}" if label else ""),
                    date=t.date(inst.due),
                    state=state_text(t, inst.due, today),
                )
            )
            for miss in inst.missing:
                # The title says the rest; counts and names are worth a line of their own.
                if miss.get("what") in (
                    "reviews",
                    "full_membership",
                    "candidate_decision",
                    "candidate_ceremony",
                ):
                    lines.append(f"   {missing_text(t, miss, item.title(t.locale))}")
    if not owed.overdue and not owed.upcoming:
        lines.append(t.gettext("Nothing is overdue and nothing falls due in this period. 👍"))
    rows: Keyboard = []
    if owed.late_orgs is not None:
        lines.append("")
        lines.append(
            t.ngettext(
                "{n} organization in your scope is late.",
                "{n} organizations in your scope are late.",
                owed.late_orgs,
            ).format(n=owed.late_orgs)
        )
        rows.append([(t.gettext(SUMMARY_BUTTON[0]), SUMMARY_BUTTON[1])])
    pages = split_pages(lines, MESSAGE_BUDGET - 100)
    page = min(max(page, 0), len(pages) - 1)
    text = "\n".join(pages[page])
    if len(pages) > 1:
        n = len(owed.overdue) + len(owed.upcoming)
        text += "\n\n" + t.gettext("Page {page}/{pages} · {n} in all").format(
            page=page + 1, pages=len(pages), n=n
        )
        paging = []
        if page > 0:
            paging.append(("‹", DEADLINES_PAGE.data(page - 1)))
        if page + 1 < len(pages):
            paging.append(("›", DEADLINES_PAGE.data(page + 1)))
        rows = [paging, *rows]
    return text, rows


# --- Notices and briefings ---------------------------------------------------------------------

NOTICE_TEXT = N_("📣 <b>{title}</b>\n{body}\nPlease confirm that you have read it.")
BRIEFING_TEXT = N_(
    "📣 <b>{title}</b>\n🗓 {when}\n📍 {place}\n{body}\nPlease tell us whether you will attend."
)
#: The answer buttons of each kind of notice: rows of (label, answer of NOTICE_ANSWER).
NOTICE_BUTTONS = {
    "notice": [[[N_("👌 I have read it"), "seen"]]],
    "briefing": [
        [
            [N_("✅ I will attend"), "attend"],
            [N_("❌ I cannot attend"), "decline"],
        ]
    ],
}


def send_notice(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str | None,
    scope: dict[str, Any],
    event_at: datetime | None,
    place: str | None,
    actor: Any,
    now: datetime,
) -> tuple[int, int]:
    """Create a notice or briefing and queue it to the secretaries in scope.

    Returns (notice id, recipients). The running bot's tick delivers it within a minute, in each
    recipient's language, with one-tap buttons (:mod:`handlers.reminders`).
    """
    notice, people = ob.create_notice(
        session,
        kind=kind,
        title=title,
        body=body,
        scope=scope,
        event_at=event_at,
        place=place,
        actor=actor,
        now=now,
    )
    buttons = [
        [[label, NOTICE_ANSWER.data(answer, notice.id)] for label, answer in row]
        for row in NOTICE_BUTTONS[kind]
    ]
    params: dict[str, Any] = {"title": title, "body": body or ""}
    if kind == "briefing":
        params["when"] = event_at.isoformat() if event_at else "—"
        params["place"] = place or "—"
    rows = [
        outbox.NewRow(
            key=f"notice:{notice.id}:{pid}",
            person_id=pid,
            kind="notice",
            payload={
                "msgid": BRIEFING_TEXT if kind == "briefing" else NOTICE_TEXT,
                "params": params,
                "buttons": buttons,
            },
            not_before=now,
        )
        for pid in people
    ]
    outbox.insert_ignore(session, rows, now=now)
    return notice.id, len(rows)
