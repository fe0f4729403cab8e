"""Uvicorn's access log without secrets: a request's query string is left out and an API key in its path is hidden,
so a client that puts a key (or a complaint) in the URL does not get it written to the log."""

from __future__ import annotations

import logging
import re

from serve.auth import KEY_PREFIX

ACCESS_LOGGER = "uvicorn.access"
API_KEY = re.compile(re.escape(KEY_PREFIX) + r"[\w-]+")
HIDDEN_KEY = "[api key]"


class HideSecrets(logging.Filter):
    """Rewrites the path in uvicorn's access records, whose arguments are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = API_KEY.sub(HIDDEN_KEY, args[2].partition("?")[0])
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def hide_secrets_in_access_log() -> None:
    """Add `HideSecrets` to uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, HideSecrets) for existing in logger.filters):
        logger.addFilter(HideSecrets())
