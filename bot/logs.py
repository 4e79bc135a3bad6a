"""Logging set-up: text or JSON lines, never personal data.

Handlers log pseudonyms and counts only; this module adds a last safety net that
refuses to format arguments into a few risky record fields.
"""

from __future__ import annotations

import json
import logging
import sys


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald or Loki."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Tracebacks are reduced to the exception type: their locals and messages may hold user text."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's API
        exc_type = ei[0] if isinstance(ei, tuple) else None
        return f"  error type: {getattr(exc_type, '__name__', 'unknown')}"

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return ""


# Libraries that log request URLs (which hold the Telegram token), payloads or chatter at INFO/DEBUG.
NOISY = ("httpx", "httpcore", "telegram", "nio", "apscheduler", "aiosqlite", "peewee", "matplotlib", "bm25s")


class QuietLibraries(logging.Filter):
    """Below WARNING, only our own records pass: a library imported later may set its own logger to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.partition(".")[0] not in NOISY


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(QuietLibraries())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
