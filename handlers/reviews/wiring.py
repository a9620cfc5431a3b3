"""The handlers of /review and /commitments."""

from __future__ import annotations

from telegram.ext import CommandHandler

from handlers import flows
from handlers.base import Handlers
from handlers.reviews.buttons import CMT_CELL, CMT_END, REV_CELL, REV_END
from handlers.reviews.commitments import (
    COMMITMENT_STEPS,
    commitments_command,
    on_c_end,
    on_commitments_cell,
    render_commitments,
)
from handlers.reviews.review import (
    REVIEW_STEPS,
    on_end,
    on_review_cell,
    render_review,
    review_command,
)


def handlers() -> Handlers:
    """The handlers of /review and /commitments: the commands, the buttons that start or end
    a conversation, and the step buttons from their tables."""
    return [
        CommandHandler(["review", "camket"], review_command),
        CommandHandler("commitments", commitments_command),
        REV_CELL.handler(on_review_cell),
        REV_END.handler(on_end),
        *flows.step_buttons(REVIEW_STEPS, render_review),
        CMT_CELL.handler(on_commitments_cell),
        CMT_END.handler(on_c_end),
        *flows.step_buttons(COMMITMENT_STEPS, render_commitments),
    ]
