"""The handlers of /review and /commitments."""

from __future__ import annotations

from telegram.ext import CommandHandler

from handlers.base import Handlers
from handlers.reviews.buttons import (
    CMT_ALL,
    CMT_B,
    CMT_CELL,
    CMT_D,
    CMT_END,
    CMT_I,
    CMT_IG,
    CMT_IX,
    CMT_M,
    CMT_PG,
    CMT_PUB,
    CMT_T,
    REV_ALL,
    REV_B,
    REV_C,
    REV_CELL,
    REV_CX,
    REV_END,
    REV_G,
    REV_M,
    REV_MO,
    REV_O,
    REV_PG,
    REV_SG,
    REV_W,
)
from handlers.reviews.commitments import (
    commitments_command,
    on_c_all,
    on_c_back,
    on_c_clear,
    on_c_date,
    on_c_end,
    on_c_item,
    on_c_item_group,
    on_c_member,
    on_c_page,
    on_c_public,
    on_c_today,
    on_commitments_cell,
)
from handlers.reviews.review import (
    on_all,
    on_back,
    on_comment,
    on_comment_remove,
    on_end,
    on_group,
    on_member,
    on_month,
    on_outcome,
    on_page,
    on_review_cell,
    on_sign,
    on_watch,
    review_command,
)


def handlers() -> Handlers:
    """The handlers of /review and /commitments."""
    return [
        CommandHandler(["review", "camket"], review_command),
        CommandHandler("commitments", commitments_command),
        REV_CELL.handler(on_review_cell),
        REV_M.handler(on_member),
        REV_O.handler(on_outcome),
        REV_G.handler(on_group),
        REV_SG.handler(on_sign),
        REV_C.handler(on_comment),
        REV_CX.handler(on_comment_remove),
        REV_B.handler(on_back),
        REV_PG.handler(on_page),
        REV_MO.handler(on_month),
        REV_W.handler(on_watch),
        REV_ALL.handler(on_all),
        REV_END.handler(on_end),
        CMT_CELL.handler(on_commitments_cell),
        CMT_M.handler(on_c_member),
        CMT_T.handler(on_c_today),
        CMT_D.handler(on_c_date),
        CMT_I.handler(on_c_item),
        CMT_IG.handler(on_c_item_group),
        CMT_IX.handler(on_c_clear),
        CMT_PUB.handler(on_c_public),
        CMT_B.handler(on_c_back),
        CMT_PG.handler(on_c_page),
        CMT_ALL.handler(on_c_all),
        CMT_END.handler(on_c_end),
    ]
