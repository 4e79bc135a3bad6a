"""The neutral rich text every reply is written in, and the one place values enter it.

Templates in `content/` use a tiny markup: `**bold**`, `__italic__`, `[label](url)`,
blank lines between paragraphs and `- ` at the start of list lines. A template is
parsed into spans *before* values are substituted, so a user-supplied value (a
name, a question) is always plain text: it can never open a tag or a link, on any
platform. Transports render spans and escape their text in one place each.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

_TOKEN = re.compile(r"\*\*|__|\[([^\]\n]+)\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Span:
    """A run of text with one style; `link` is a URL when the run is a link label."""

    text: str
    bold: bool = False
    italic: bool = False
    link: str | None = None


@dataclass(frozen=True)
class Rich:
    """Rich text as a sequence of spans; paragraphs are separated by blank lines in span text."""

    spans: tuple[Span, ...] = ()

    @property
    def plain(self) -> str:
        """The text as a reader sees it without styling (links keep their label)."""
        return "".join(s.text for s in self.spans)

    def __add__(self, other: Rich) -> Rich:
        return Rich(self.spans + other.spans)

    def __bool__(self) -> bool:
        return bool(self.plain.strip())


def plain(text: str) -> Rich:
    """User or external text, never interpreted as markup."""
    return Rich((Span(text),)) if text else Rich()


def parse(template: str) -> Rich:
    """Parse trusted content markup into spans (placeholders stay as literal `{name}`)."""
    spans: list[Span] = []
    bold = italic = False
    pos = 0
    for m in _TOKEN.finditer(template):
        if m.start() > pos:
            spans.append(Span(template[pos : m.start()], bold, italic))
        token = m.group(0)
        if token == "**":
            bold = not bold
        elif token == "__":
            italic = not italic
        else:
            spans.append(Span(m.group(1), bold, italic, m.group(2)))
        pos = m.end()
    if pos < len(template):
        spans.append(Span(template[pos:], bold, italic))
    return Rich(tuple(spans))


_FORMATTER = string.Formatter()
# The same few hundred content templates are rendered for every reply: parse each once.
_parsed_template = functools.lru_cache(maxsize=1024)(parse)


def _format_span(span: Span, values: Mapping[str, object]) -> Iterable[Span]:
    """Substitute `{name}` placeholders in a span; values become text with the span's style."""
    for literal, name, spec, conv in _FORMATTER.parse(span.text):
        if literal:
            yield replace(span, text=literal)
        if name is None:
            continue
        value = values[name]
        if isinstance(value, Rich):
            # A pre-built fragment keeps its own styling, inheriting the outer bold/italic.
            for inner in value.spans:
                yield replace(inner, bold=inner.bold or span.bold, italic=inner.italic or span.italic)
            continue
        if conv:
            value = _FORMATTER.convert_field(value, conv)
        yield replace(span, text=format(value, spec or ""))


def render_template(template: str, **values: object) -> Rich:
    """Content markup with values inserted as plain text (or as `Rich` fragments)."""
    out: list[Span] = []
    for span in _parsed_template(template).spans:
        out.extend(_format_span(span, values))
    return Rich(tuple(s for s in out if s.text))


def join(parts: Iterable[Rich], separator: str = "\n\n") -> Rich:
    """Join fragments with a plain separator (a paragraph break by default)."""
    out: list[Span] = []
    for i, part in enumerate(p for p in parts if p):
        if i:
            out.append(Span(separator))
        out.extend(part.spans)
    return Rich(tuple(out))


def split(text: Rich, limit: int, measure: Callable[[Rich], int] = lambda r: len(r.plain)) -> list[Rich]:
    """Split into chunks of at most `limit` by `measure`, on paragraph, then line, then word boundaries.

    Platforms cap message length (Telegram 4 096 characters after entity parsing),
    so long texts such as the full petition go out as several messages that each
    end on a natural boundary.
    """
    if measure(text) <= limit:
        return [text] if text else []
    pieces = _pieces(text)
    chunks: list[Rich] = []
    current: list[Span] = []
    for piece in pieces:
        candidate = Rich(tuple(current) + piece.spans)
        if current and measure(_strip(candidate)) > limit:
            chunks.append(_strip(Rich(tuple(current))))
            current = list(piece.spans)
        else:
            current = list(candidate.spans)
        while measure(_strip(Rich(tuple(current)))) > limit:
            head, tail = _hard_cut(Rich(tuple(current)), limit, measure)
            chunks.append(head)
            current = list(tail.spans)
    if current and _strip(Rich(tuple(current))):
        chunks.append(_strip(Rich(tuple(current))))
    return [c for c in chunks if c]


def _pieces(text: Rich) -> list[Rich]:
    """Cut spans after each paragraph break, else after line breaks, else after spaces."""
    for sep in ("\n\n", "\n", " "):
        pieces: list[list[Span]] = [[]]
        for span in text.spans:
            parts = span.text.split(sep)
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                chunk = part if last else part + sep
                if chunk:
                    pieces[-1].append(replace(span, text=chunk))
                if not last:
                    pieces.append([])
        if len(pieces) > 1:
            return [Rich(tuple(p)) for p in pieces if p]
    return [text]


def _hard_cut(text: Rich, limit: int, measure: Callable[[Rich], int]) -> tuple[Rich, Rich]:
    """Cut a piece with no usable boundary (one enormous word) at the largest prefix that fits."""
    spans = list(text.spans)
    head: list[Span] = []
    while spans:
        span = spans.pop(0)
        if measure(Rich(tuple(head) + (span,))) <= limit:
            head.append(span)
            continue
        lo, hi = 0, len(span.text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if measure(Rich(tuple(head) + (replace(span, text=span.text[:mid]),))) <= limit:
                lo = mid
            else:
                hi = mid - 1
        lo = max(lo, 1) if not head else lo
        if lo:
            head.append(replace(span, text=span.text[:lo]))
        rest = span.text[lo:]
        if rest:
            spans.insert(0, replace(span, text=rest))
        break
    return Rich(tuple(head)), Rich(tuple(spans))


def _strip(text: Rich) -> Rich:
    """Drop leading and trailing whitespace across spans."""
    spans = list(text.spans)
    while spans and not spans[0].text.strip():
        spans.pop(0)
    while spans and not spans[-1].text.strip():
        spans.pop()
    if spans:
        spans[0] = replace(spans[0], text=spans[0].text.lstrip())
        spans[-1] = replace(spans[-1], text=spans[-1].text.rstrip())
    return Rich(tuple(spans))
