"""Logging that never carries credentials: URL tokens are redacted from request logs."""

from __future__ import annotations

import logging
import re

_TOKEN_IN_PATH = re.compile(r"/v1/(key|test)/[^/\s]+/")


def redact(text: str) -> str:
    """Replace app-user and draft tokens in URL paths with ``***``."""
    return _TOKEN_IN_PATH.sub(r"/v1/\1/***/", text)


class RedactTokens(logging.Filter):
    """A filter for request loggers (werkzeug's dev server logs every request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                redact(a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = redact(str(record.msg))
        return True


def install() -> None:
    """Attach the filter to the loggers that print request paths."""
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
