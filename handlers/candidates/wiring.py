"""/candidates: the handlers, for the composition root."""

from __future__ import annotations

from telegram.ext import CommandHandler

from handlers.base import Handlers
from handlers.candidates.buttons import (
    ADD,
    CANCEL,
    CONSIDER,
    EXTEND,
    LIST,
    MEETING,
    MOVE,
    OPEN,
    REDO,
)
from handlers.candidates.commands import (
    candidates_command,
    on_add,
    on_consider,
    on_extend,
    on_list,
    on_move,
    on_open,
    on_redo,
)
from handlers.candidates.meeting import on_meeting_answer
from handlers.candidates.steps import STEP_BUTTONS, _step, on_cancel


def handlers() -> Handlers:
    """The handlers of /candidates (group 0)."""
    out: Handlers = [
        CommandHandler(["candidates", "camtinh"], candidates_command),
        LIST.handler(on_list),
        OPEN.handler(on_open),
        ADD.handler(on_add),
        CONSIDER.handler(on_consider),
        MOVE.handler(on_move),
        EXTEND.handler(on_extend),
        REDO.handler(on_redo),
        CANCEL.handler(on_cancel),
        MEETING.handler(on_meeting_answer),
    ]
    for family, use_case in STEP_BUTTONS:
        out.append(family.handler(_step(family, use_case)))
    return out
