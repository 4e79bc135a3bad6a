"""Logging set-up: text or JSON lines, never personal data.

Handlers log pseudonyms and counts only. An exception's message may quote what a
user typed (a name in a `ValueError`, a value in a database error), so a logged
exception keeps everything needed to find the bug (its type and the stack: file,
line, function and code line of each frame, and the same for its causes) and
drops only the messages.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from typing import Any

MAX_CAUSES = 5  # a chain of causes this long is already a story; deeper ones are left out


def _type_name(exc: type[BaseException]) -> str:
    module = exc.__module__
    return exc.__qualname__ if module in ("builtins", "__main__") else f"{module}.{exc.__qualname__}"


def _chain(error: BaseException) -> list[tuple[str, traceback.StackSummary, str]]:
    """The exception and its causes, the first cause first as Python prints them.

    Each is (type, frames, how it led to the next one: "cause" for `raise … from`, else "context").
    """
    links: list[tuple[str, traceback.StackSummary, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    how = ""
    while current is not None and id(current) not in seen and len(links) <= MAX_CAUSES:
        seen.add(id(current))
        frames = traceback.StackSummary.extract(traceback.walk_tb(current.__traceback__), capture_locals=False)
        links.append((_type_name(type(current)), frames, how))
        if current.__cause__ is not None:
            current, how = current.__cause__, "cause"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, how = current.__context__, "context"
        else:
            current = None
    return list(reversed(links))


def _frame(f: traceback.FrameSummary) -> str:
    return f"{f.filename}:{f.lineno} in {f.name}"


def stack_lines(error: BaseException) -> list[str]:
    """The traceback Python would print, without the exceptions' messages."""
    lines = ["Traceback (most recent call last; exception messages left out):"]
    chain = _chain(error)
    for i, (name, frames, _) in enumerate(chain):
        if i:  # how the one above led to this one
            above = chain[i - 1][2]
            lines.append("The above caused:" if above == "cause" else "While handling the above, another error:")
        for f in frames:
            lines.append(f'  File "{f.filename}", line {f.lineno}, in {f.name}')
            if f.line:
                lines.append(f"    {f.line.strip()}")
        lines.append(name)
    return lines


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald or Loki."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            chain = _chain(error)
            entry["error"] = chain[-1][0]
            entry["stack"] = [_frame(f) for f in chain[-1][1]]
            if len(chain) > 1:
                entry["caused_by"] = [
                    {"error": name, "stack": [_frame(f) for f in frames]} for name, frames, _ in chain[:-1]
                ]
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Tracebacks keep their frames and exception types; the exceptions' messages are left out."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's API
        error = ei[1] if isinstance(ei, tuple) and len(ei) == 3 else None
        if not isinstance(error, BaseException):
            return "  error type: unknown"
        return "\n".join("  " + line for line in stack_lines(error))

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
