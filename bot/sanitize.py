"""Cleaning of text that arrives from users, done once for every inbound message.

Control characters, direction overrides and zero-width characters can hide
text, reorder what an admin sees in a preview, or make two names look equal;
they carry no meaning in a question or a name, so they are removed.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile(
    "["
    "\u0000-\u0008\u000b-\u001f\u007f-\u009f"  # C0/C1 controls except tab and newline
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, overrides, isolates
    "\u200b-\u200d\u2060-\u2064\ufeff"  # zero-width space/joiners, word joiner, BOM
    "\u00ad"  # soft hyphen
    "]"
)


def clean_text(text: str) -> str:
    """Normalise to NFC, drop invisible and control characters, unify line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return _INVISIBLE.sub("", text)


def fold(text: str) -> str:
    """Lower case without accents, for matching commands and questions typed without them."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
