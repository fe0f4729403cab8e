"""What a string must be to be stored: every database the service supports can hold it, and UTF-8 can encode it."""

from __future__ import annotations

EXTERNAL_ID_MAX_CHARS = 200
"""The longest id a client or helpdesk may give a ticket (the size of the tickets' `external_id` column)."""


def storage_problem(value: str) -> str | None:
    """Why `value` cannot be stored, or None: PostgreSQL text holds no NUL character, and a lone surrogate (which
    JSON's `\\ud800` escapes can produce) is not valid Unicode."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (it holds a lone surrogate)"
    return None
