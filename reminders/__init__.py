"""reminders: the reminder-letter batch engine for Belgian civil-affairs services."""

from __future__ import annotations

__version__ = "0.1.0"
