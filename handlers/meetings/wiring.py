"""The handlers of /meeting, /meetings and /model."""

from __future__ import annotations

from telegram.ext import CommandHandler

from handlers.base import Handlers
from handlers.meetings.buttons import (
    MDL_CELL,
    MDL_CP,
    MDL_NEW,
    MDL_RM,
    MDL_RMY,
    MDL_RV,
    MDL_X,
    MTG_CELLS,
    MTG_DEL,
    MTG_DELY,
    MTG_FILE,
    MTG_FIX,
    MTG_LIST,
    MTG_LIST_OWN,
    MTG_NEW,
    MTG_OPEN,
    MTG_SAVE,
    MTG_X,
)
from handlers.meetings.listing import (
    meetings_command,
    on_cells,
    on_delete,
    on_delete_ask,
    on_file,
    on_fix,
    on_list,
    on_open,
)
from handlers.meetings.log import STEP_BUTTONS, _step, meeting_command, on_cancel, on_new, on_save
from handlers.meetings.model import (
    model_command,
    on_model_cancel,
    on_model_cell,
    on_model_copy,
    on_model_new,
    on_model_remove,
    on_model_remove_ask,
    on_model_review,
)


def handlers() -> Handlers:
    """The handlers of /meeting, /meetings and /model (group 0)."""
    out: Handlers = [
        CommandHandler(["meeting", "sinhhoat"], meeting_command),
        CommandHandler("meetings", meetings_command),
        CommandHandler("model", model_command),
        MTG_NEW.handler(on_new),
        MTG_SAVE.handler(on_save),
        MTG_X.handler(on_cancel),
        MTG_CELLS.handler(on_cells),
        MTG_LIST.handler(on_list),
        MTG_LIST_OWN.handler(on_list),
        MTG_OPEN.handler(on_open),
        MTG_FILE.handler(on_file),
        MTG_FIX.handler(on_fix),
        MTG_DEL.handler(on_delete_ask),
        MTG_DELY.handler(on_delete),
        MDL_CELL.handler(on_model_cell),
        MDL_NEW.handler(on_model_new),
        MDL_RV.handler(on_model_review),
        MDL_CP.handler(on_model_copy),
        MDL_RM.handler(on_model_remove_ask),
        MDL_RMY.handler(on_model_remove),
        MDL_X.handler(on_model_cancel),
    ]
    for family, use_case in STEP_BUTTONS:
        out.append(family.handler(_step(family, use_case)))
    return out
