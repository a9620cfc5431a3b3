"""/candidates (/camtinh): the cell's sympathizer list, the monthly consideration, dated steps.

Handlers only parse the update, call one use case of :mod:`storage.candidates` and render.
Buttons carry ``cnd:<action>:<conversation key or file>:…``; the use case re-checks the draft's
step, the presser's role and the file's version, so stale buttons, double taps and a second
secretary change nothing. A rule the step breaks is explained with its source, never silently
accepted; where the rules allow an exception approved higher up, the secretary records it.

Adding a non-member: the name is typed, the rest is 6 taps plus one per priority group. The
monthly consideration of a list: 2 taps, plus one per sympathizer sent to the class or
candidate proposed.

One module per section: ``buttons`` (the typed button families), ``screens``, ``commands``,
``steps`` (and the flow's declaration), ``meeting`` (the question after a regular meeting) and
``wiring``; the composition root and the other features import from this package.
"""

from __future__ import annotations

from handlers.candidates.commands import candidates_command
from handlers.candidates.meeting import meeting_question
from handlers.candidates.screens import card_screen, list_screen, render, violation_text
from handlers.candidates.steps import CANDIDATES_FLOW
from handlers.candidates.wiring import handlers

__all__ = [
    "CANDIDATES_FLOW",
    "candidates_command",
    "card_screen",
    "handlers",
    "list_screen",
    "meeting_question",
    "render",
    "violation_text",
]
