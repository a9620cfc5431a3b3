"""What /review and /commitments share: picking the cell, starting its conversation, the member
list's pages, and step use cases declared as data (which arguments go where)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session
from telegram import Update

from domain.errors import StaleAction
from domain.text import h, truncate
from handlers import flows
from handlers.base import Callback, Context, Env, Rows, button, send
from handlers.callbacks import Family
from handlers.reviews.buttons import PAGE, _name, _status_note
from storage.models import Draft, MemberStatus

T = TypeVar("T")

#: What a step use case may take of the person pressing, by the name of its parameter.
_FROM_ENV: dict[str, Callable[[Env], Any]] = {
    "person_id": lambda env: env.person_id,
    "actor": lambda env: env.who.actor(),
    "today": lambda env: env.today(),
    "now": lambda env: env.now(),
}


@functools.cache
def _env_params(use_case: Callable[..., Any]) -> tuple[str, ...]:
    params = inspect.signature(use_case).parameters
    return tuple(name for name in _FROM_ENV if name in params)


def call(use_case: Callable[..., T], session: Session, env: Env, **kw: Any) -> T:
    """Runs a storage use case with ``kw`` and what it takes of ``env`` (person, actor, today,
    now), in ``session``."""
    return use_case(
        session, **{name: _FROM_ENV[name](env) for name in _env_params(use_case)}, **kw
    )


def step(
    use_case: Callable[..., Draft], *params: str | tuple[str, Mapping[str, Any]], **fixed: Any
) -> flows.ButtonStep:
    """A step declared as data: the button's (or the typed text's) arguments after the draft's
    key go to ``use_case`` as the parameters ``params`` name; a parameter given as ``(name,
    codes)`` gets the value its code stands for in ``codes`` (a code not there is a stale
    button); ``fixed`` go as they are."""
    names = [p if isinstance(p, str) else p[0] for p in params]
    lookups = {p[0]: p[1] for p in params if not isinstance(p, str)}

    def run(s: Session, env: Env, key: int, *args: Any) -> Draft:
        kw = dict(zip(names, args, strict=True))
        for name, codes in lookups.items():
            if kw[name] not in codes:
                raise StaleAction()
            kw[name] = codes[kw[name]]
        return call(use_case, s, env, key=key, **kw, **fixed)

    run.__name__ = run.__qualname__ = use_case.__name__
    run.__doc__ = use_case.__doc__
    return run


def typed(use_case: Callable[..., Draft], render: flows.Render, **fixed: Any) -> flows.Step:
    """A typed step declared as data: the text goes to ``use_case`` as ``text``."""
    return flows.typed_step(step(use_case, "text", **fixed), render)


def end_button(
    family: Family, close: Callable[[Session, Env, int], flows.Screen], render: flows.Render
) -> Callback:
    """The "Done" button of a conversation: ``close`` ends the draft the button names and says
    what was saved."""

    async def on_done(update: Update, context: Context, env: Env) -> None:
        (key,) = family.args(update)
        await flows.step(
            update, context, env, lambda s: None, render=render, done=lambda s: close(s, env, key)
        )

    on_done.__name__ = on_done.__qualname__ = "on_" + close.__name__.lstrip("_")
    on_done.__doc__ = close.__doc__
    return button(on_done)


async def ask_cell(
    env: Env, context: Context, cells: Mapping[int, str], data: Callable[[int], str]
) -> None:
    """Asks which of ``cells`` (id → name); a cell's button carries ``data(id)``."""
    rows = [[(truncate(name, 40), data(oid))] for oid, name in cells.items()]
    await send(env, context, env.t.gettext("Which cell?"), rows)


async def start(
    update: Update, context: Context, env: Env, flow: str, args: dict[str, Any]
) -> None:
    """Starts the cell's conversation ``flow`` on ``args`` (continuing one open on the same)."""

    def same(d: Draft) -> bool:
        return d.flow == flow and all(d.data.get(k) == v for k, v in args.items())

    await flows.start(update, context, env, flow, args, same=same)


class Listed(Protocol):
    """A member on a cell's list."""

    @property
    def member_id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def status(self) -> MemberStatus: ...


def member_head(env: Env, line: Listed, what: str) -> str:
    """The first line of one member's screen: the name, the status unless full, and ``what``."""
    return f"<b>{h(line.name)}</b>{h(_status_note(env, line.status))} — {what}"


L = TypeVar("L", bound=Listed)


def member_pages(
    env: Env,
    members: Sequence[L],
    page: int,
    mark: Callable[[L], str],
    open_member: Family,
    turn: Family,
    key: int,
) -> Rows:
    """Page ``page`` of the members, two a row, each marked and opening the member, and the
    buttons to the pages before and after."""
    _ = env.t.gettext
    pages = max(1, -(-len(members) // PAGE))
    page = min(page, pages - 1)
    chunk = members[page * PAGE : (page + 1) * PAGE]
    rows = [
        [
            (f"{mark(m)} {_name(m.name)}", open_member.data(key, m.member_id))
            for m in chunk[i : i + 2]
        ]
        for i in range(0, len(chunk), 2)
    ]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append((_("◀ Previous"), turn.data(key, page - 1)))
        if page < pages - 1:
            nav.append((_("Next ▶"), turn.data(key, page + 1)))
        rows.append(nav)
    return rows


def back_row(env: Env, family: Family, key: int) -> list[tuple[str, str]]:
    """The row back to the member list."""
    return [(env.t.gettext("◀ Back to the list"), family.data(key))]
