"""Services shared by every handler, created once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.clock import Clock
from domain.settings import Settings
from storage.db import Database


@dataclass
class AppContext:
    """What handlers and jobs need: settings, the database and the clock."""

    settings: Settings
    db: Database
    clock: Clock
    bot_username: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
