"""Delivering the outbox within Telegram's limits: claim → send → mark sent.

Telegram allows about 30 messages a second overall and one a second per chat. The sender
paces itself with the :class:`services.pacing.Pacer` it shares with the Application's rate
limiter (see :mod:`bot.app`): the fan-out uses only what people's replies leave, so a reply never
waits behind it and Telegram never has to answer 429. The database work (claim, mark sent) runs
on the database's threads, off the event loop. This loop adds what a rate limiter cannot know:

* **429 Too Many Requests** (``RetryAfter``): wait ``retry_after`` and send the same message
  again (not counted as a failed attempt); after several waits the rows go back to the queue.
* **5xx, network errors, connect/pool timeouts**: the rows go back to ``pending`` with an
  exponential backoff; after ``CHIBO_OUTBOX_MAX_ATTEMPTS`` claims they are ``failed``.
* **A timeout after the request was written** (read/write timeout): Telegram may have
  delivered it. Resending could duplicate, so the rows are ``failed`` (the next reminder slot
  reminds again) — the one case where chibo prefers losing a message to sending it twice.
* **403 Forbidden / chat not found**: the person blocked the bot or never started it: rows
  ``blocked``, ``Person.blocked_at`` set, the admins told once, no more sends to them until
  they write to the bot again.
* **Other 400s** (a bug in a message): ``failed`` at once; retrying cannot help.

The only duplicate window is documented in :mod:`storage.outbox`: a crash between Telegram's
"ok" and the single ``mark_sent`` statement.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from domain.access import ROLE_NAMES
from domain.clock import Clock
from domain.i18n import N_
from domain.rules.deadlines import ReminderPlan, in_quiet_hours
from services.pacing import PACED, PacedRateLimiter, Pacer, retry_seconds
from storage import obligations as ob
from storage import outbox
from storage.db import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from telegram import Bot

    from domain.settings import Settings

log = logging.getLogger(__name__)

Keyboard = list[list[tuple[str, str]]]
Render = Callable[[Sequence[outbox.Claimed], datetime], tuple[str, Keyboard]]
Sleep = Callable[[float], Awaitable[Any]]
T = TypeVar("T")

#: Told to admins when someone cannot be reached (rendered in the admin's language).
BLOCKED_NOTICE = N_(
    "⚠️ <b>{name}</b> cannot be reached: they blocked the bot or never started it. "
    "Reminders to them are not delivered until they write to the bot again.\n"
    "Roles: {roles}\nList everyone unreachable: <code>chibo reminders --unreachable</code>"
)


#: Messages the paced sender keeps in flight at once.
PARALLEL = 8


@dataclass
class DrainStats:
    """What one drain did."""

    messages: int = 0
    rows_sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    flood_waits: int = 0
    batches: int = 0


def safe_to_resend(exc: TimedOut) -> bool:
    """A timeout before the request left (connect or pool): Telegram never saw it."""
    import httpx

    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    return "pool timeout" in str(exc).lower()


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 30 minutes."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def group_rows(rows: Sequence[outbox.Claimed]) -> list[list[outbox.Claimed]]:
    """One message per person for their reminders; one message per row for anything else."""
    groups: dict[tuple[int, str], list[outbox.Claimed]] = {}
    singles: list[list[outbox.Claimed]] = []
    for row in rows:
        if row.kind == outbox.REMINDER:
            groups.setdefault((row.person_id, row.kind), []).append(row)
        else:
            singles.append([row])
    return list(groups.values()) + singles


def keyboard(rows: Keyboard | None) -> InlineKeyboardMarkup | None:
    """Inline keyboard from rows of (label, callback data)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


class Sender:
    """Drains the outbox for one process (``worker``).

    Args:
        db: The database.
        bot: The PTB bot (with the Application's rate limiter in production).
        clock: The injected clock (claims and backoff use it).
        settings: Quiet hours and the attempt limit.
        render: Turns a group of claimed rows into (HTML text, keyboard) at send time.
        worker: This process's claim name.
        batch: Rows claimed per transaction.
        stale_after: A claim older than this belongs to a dead process and is taken over.
        sleep: How to wait for ``retry_after`` (tests pass a fake).
        max_flood_waits: 429 waits for one message before it goes back to the queue.
        group: Splits claimed rows into messages (default: a person's reminders together).
        pacer: Paces the sends within Telegram's limits, after people's replies (default: the
            pacer of the bot's :class:`PacedRateLimiter`; none when the bot has another one).
        parallel: Messages in flight at once (default: :data:`PARALLEL` when paced, else 1).
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        clock: Clock,
        settings: Settings,
        render: Render,
        worker: str,
        batch: int = 20,
        stale_after: timedelta = outbox.STALE_AFTER,
        sleep: Sleep = asyncio.sleep,
        max_flood_waits: int = 5,
        group: Callable[[Sequence[outbox.Claimed]], list[list[outbox.Claimed]]] | None = None,
        pacer: Pacer | None = None,
        parallel: int | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.settings = settings
        self.render = render
        self.worker = worker
        self.batch = batch
        self.stale_after = stale_after
        self.sleep = sleep
        self.max_flood_waits = max_flood_waits
        self.group = group or group_rows
        limiter = getattr(bot, "rate_limiter", None)
        self._limiter_paced = isinstance(limiter, PacedRateLimiter)
        if pacer is None and isinstance(limiter, PacedRateLimiter):
            pacer = limiter.pacer
        self.pacer = pacer
        # Several requests in flight only when paced (the pacer keeps Telegram's limits).
        self.parallel = parallel or (PARALLEL if pacer is not None else 1)
        self._quiet = ReminderPlan(quiet_start=settings.quiet_start, quiet_end=settings.quiet_end)

    def quiet_now(self) -> bool:
        """Nothing is sent in the quiet hours (21:00–07:00 by default)."""
        return in_quiet_hours(self.clock.now().astimezone(self.settings.tz), self._quiet)

    async def drain(
        self, *, max_seconds: float | None = None, max_messages: int | None = None
    ) -> DrainStats:
        """Send what is due until the outbox is empty (or the time/message budget ends)."""
        stats = DrainStats()
        loop = asyncio.get_running_loop()
        deadline = None if max_seconds is None else loop.time() + max_seconds
        while not self.quiet_now():
            if deadline is not None and loop.time() >= deadline:
                break
            if max_messages is not None and stats.messages >= max_messages:
                break
            claimed = await self._claim()
            if not claimed:
                break
            stats.batches += 1
            untouched = self.group(claimed)
            try:
                if not await self._deliver_all(untouched, stats):
                    return stats
            finally:
                # Cancelled, or stopped early: rows never tried go back at once, without
                # counting an attempt. The ones in flight (if any) stay "sending": they may
                # have reached Telegram, so only the stale-claim rule may retry them.
                await self._release_unsent([r.id for g in untouched for r in g])
        return stats

    async def _deliver_all(self, queue: list[list[outbox.Claimed]], stats: DrainStats) -> bool:
        """Deliver the groups of ``queue`` (taken from it as they start), ``parallel`` at a
        time: the pacer sets the pace, the overlap hides each request's round trip and the
        database's commit. Returns False when draining should stop."""
        if self.parallel <= 1:
            while queue:
                if not await self._deliver(queue.pop(0), stats):
                    return False
            return True
        running: dict[asyncio.Task[bool], tuple[list[outbox.Claimed], list[bool]]] = {}
        keep_going = True
        try:
            while (queue and keep_going) or running:
                if queue and keep_going and len(running) < self.parallel:
                    group, started = queue.pop(0), [False]
                    running[asyncio.create_task(self._deliver(group, stats, started))] = (
                        group,
                        started,
                    )
                    continue
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    running.pop(task)
                    keep_going = task.result() and keep_going
        except BaseException:
            for task in running:
                task.cancel()
            await asyncio.wait(running)
            # Those cancelled before their request left go back like the untouched ones.
            queue.extend(group for group, started in running.values() if not started[0])
            raise
        return keep_going

    async def _db(self, use_case: Callable[[Session], T]) -> T:
        """Run ``use_case`` in a transaction on the database's threads. When cancelled
        meanwhile, wait for it to finish (its outcome is then known) and stop."""
        future = self.db.submit(use_case)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise

    async def _claim(self) -> list[outbox.Claimed]:
        def claim(session: Any) -> list[outbox.Claimed]:
            return outbox.claim(
                session,
                worker=self.worker,
                now=self.clock.now(),
                limit=self.batch,
                stale_after=self.stale_after,
                max_attempts=self.settings.outbox_max_attempts,
            )

        future = self.db.submit(claim)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            if not future.cancelled() and future.exception() is None:
                await self._release_unsent([r.id for r in future.result()])
            raise

    async def _release_unsent(self, ids: list[int]) -> None:
        """Rows never tried go back at once, without counting an attempt."""
        if not ids:
            return

        def unit(session: Session) -> None:
            outbox.release(
                session,
                ids=ids,
                worker=self.worker,
                not_before=self.clock.now(),
                error="released unsent",
                max_attempts=self.settings.outbox_max_attempts + 1,
                count_attempt=False,
            )

        await self._db(unit)

    async def _fail(self, ids: list[int], error: str) -> None:
        """The rows are ``failed``: retrying cannot help (or could send twice)."""

        def unit(session: Session) -> None:
            outbox.fail(session, ids=ids, worker=self.worker, error=error)

        await self._db(unit)

    async def _deliver(
        self, rows: Sequence[outbox.Claimed], stats: DrainStats, started: list[bool] | None = None
    ) -> bool:
        """Send one message for ``rows``; returns False when draining should stop."""
        ids = [r.id for r in rows]
        first = rows[0]
        if first.chat_id is None:
            await self._fail(ids, "no Telegram account")
            stats.failed += len(ids)
            return True
        try:
            text, buttons = self.render(rows, self.clock.now())
        except Exception as exc:
            log.exception("cannot render outbox rows %s", ids)
            await self._fail(ids, f"render: {exc!r}")
            stats.failed += len(ids)
            return True
        waits = 0
        while True:
            try:
                message = await self._send(first.chat_id, text, buttons, started)
            except RetryAfter as exc:
                stats.flood_waits += 1
                wait = retry_seconds(exc)
                if self.pacer is not None:
                    self.pacer.hold(wait)
                if waits < self.max_flood_waits:
                    waits += 1
                    await self.sleep(wait)
                    continue
                await self._release(ids, wait, f"429: {exc}", count=False)
                stats.retried += len(ids)
                return False
            except Forbidden as exc:
                await self._blocked(rows, str(exc), stats)
                return True
            except BadRequest as exc:
                if "chat not found" in str(exc).lower():
                    await self._blocked(rows, str(exc), stats)
                else:
                    log.error("Telegram refused outbox rows %s: %s", ids, exc)
                    await self._fail(ids, f"400: {exc}")
                    stats.failed += len(ids)
                return True
            except TimedOut as exc:
                if safe_to_resend(exc):
                    await self._release(
                        ids, backoff(first.attempts).total_seconds(), f"timeout: {exc}"
                    )
                    stats.retried += len(ids)
                    return False
                await self._fail(ids, "timed out after sending; not resent to avoid a duplicate")
                stats.failed += len(ids)
                return True
            except InvalidToken:
                raise
            except NetworkError as exc:
                # 5xx or the network: try later; stop this drain (Telegram is struggling).
                await self._release(
                    ids, backoff(first.attempts).total_seconds(), f"network: {exc}"
                )
                stats.retried += len(ids)
                return False
            # Telegram said "ok". The duplicate window is from here to the commit below.
            await self._db(
                functools.partial(
                    outbox.mark_sent,
                    ids=ids,
                    worker=self.worker,
                    message_id=message.message_id,
                    now=self.clock.now(),
                )
            )
            stats.messages += 1
            stats.rows_sent += len(ids)
            return True

    async def _send(
        self, chat_id: int, text: str, buttons: Keyboard, started: list[bool] | None
    ) -> Any:
        """One request, paced: it counts against the limits from now until its answer."""
        if self.pacer is not None:
            await self.pacer.broadcast(chat_id)
        if started is not None:
            started[0] = True
        refused = False
        # ExtBot's rate limiter reads rate_limit_args; a plain Bot has no such parameter.
        extra: dict[str, Any] = {"rate_limit_args": PACED} if self._limiter_paced else {}
        try:
            return await self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(buttons),
                **extra,
            )
        except RetryAfter:
            refused = True
            raise
        finally:
            if self.pacer is not None:
                self.pacer.done(chat_id, counted=not refused)

    async def _release(
        self, ids: list[int], seconds: float, error: str, *, count: bool = True
    ) -> None:
        """The rows go back to ``pending`` in ``seconds`` (``failed`` past the attempt limit)."""

        def unit(session: Session) -> None:
            outbox.release(
                session,
                ids=ids,
                worker=self.worker,
                not_before=self.clock.now() + timedelta(seconds=seconds),
                error=error,
                max_attempts=self.settings.outbox_max_attempts,
                count_attempt=count,
            )

        await self._db(unit)

    async def _blocked(
        self, rows: Sequence[outbox.Claimed], error: str, stats: DrainStats
    ) -> None:
        """The person cannot be reached: rows ``blocked``, the admins told once."""
        first = rows[0]
        now = self.clock.now()

        def unit(session: Session) -> None:
            newly = outbox.block(
                session,
                ids=[r.id for r in rows],
                person_id=first.person_id,
                worker=self.worker,
                error=error,
                now=now,
            )
            if newly:
                notify_admins(session, person_id=first.person_id, now=now)

        await self._db(unit)
        stats.blocked += len(rows)


def notify_admins(session: Any, *, person_id: int, now: datetime) -> int:
    """Queue one notice per admin that ``person_id`` cannot be reached (once a day)."""
    person = ob.people_info(session, [person_id]).get(person_id)
    if person is None:
        return 0
    holders = ob.role_holders(session, ob.role_org_ids(session, person_id))
    orgs = ob.org_rows(session)
    roles = [
        {"msgid": ROLE_NAMES[role]}
        for org_id, items in holders.items()
        for pid, role in items
        if pid == person_id
    ]
    codes = sorted({orgs[o].code for o in holders})
    count = 0
    for admin in ob.admins(session):
        if admin == person_id:
            continue
        count += outbox.enqueue(
            session,
            key=f"unreachable:{person_id}:{admin}:{now.date().isoformat()}",
            person_id=admin,
            kind="unreachable",
            payload={
                "msgid": BLOCKED_NOTICE,
                "params": {"name": person.display_name, "roles": roles + codes},
            },
            not_before=now,
            now=now,
        )
    return count
