"""Judge the bot's real replies to realistic questions (tests/data/realistic_*.toml).

A real bot (temporary SQLite file, the real router and handlers) receives each
question from a fresh user in a private chat, through an outbound port that
records every reply. What is judged is the text the person reads, never the
labels of the choices:

- answer, demands, count: right when every fact group (any-of substrings,
  lowercase, unaccented) is in the reply's own text; when the bot asked "did you
  mean", right with one press if pressing one of its candidates gives a reply
  holding the facts;
- decline: the bot's decline, which asserts no campaign fact;
- smalltalk: any reply but a decline;
- sign: a Sign choice offered, or the signing dialogue started.

A wrong confident reply (an answer without the facts, or an answer where a
decline was expected) is the worst outcome and is counted apart.
"""

from __future__ import annotations

import itertools
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import Bot, build_bot
from bot.config import load_settings
from bot.events import Chat, ChatKind, Inbound, Reply, Sender, Sent
from bot.sanitize import fold

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
# Replies that assert no campaign fact; the last two offer the closest entries as choices.
DECLINES = ("decline_out_of_scope", "decline_not_in_petition", "answer_unsure")
TRANSPORT = "bench"


def load(name: str) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = tomllib.loads((DATA / name).read_text(encoding="utf-8"))["q"]
    return questions


class Recorder:
    """The outbound port: keeps every reply."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self._ids = itertools.count(1)

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        self.replies.append(reply)
        return Sent(chat, str(next(self._ids)))

    async def edit(self, sent: Sent, reply: Reply) -> None:
        self.replies.append(reply)

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        return False

    def chat_link(self, start: str | None = None) -> str | None:
        return None


@dataclass
class Verdict:
    question: dict[str, Any]
    outcome: str  # "direct", "one-press", "wrong", "wrong-confident"
    reply: str

    @property
    def right(self) -> bool:
        return self.outcome in ("direct", "one-press")


@dataclass
class Report:
    verdicts: list[Verdict] = field(default_factory=list)

    def share(self, keep: Iterable[Verdict] | None = None, outcomes: tuple[str, ...] = ("direct", "one-press")) -> str:
        chosen = list(self.verdicts if keep is None else keep)
        if not chosen:
            return "    -"
        hits = sum(v.outcome in outcomes for v in chosen)
        return f"{100 * hits / len(chosen):5.1f}% ({hits}/{len(chosen)})"

    @property
    def accuracy(self) -> float:
        return sum(v.right for v in self.verdicts) / max(len(self.verdicts), 1)

    def accuracy_of(self, lang: str) -> float:
        chosen = [v for v in self.verdicts if v.question["lang"] == lang]
        return sum(v.right for v in chosen) / max(len(chosen), 1)

    def lines(self) -> list[str]:
        out = [
            f"  all        {self.share()}   direct {self.share(outcomes=('direct',))}"
            f"   one press {self.share(outcomes=('one-press',))}"
            f"   wrong confident {sum(v.outcome == 'wrong-confident' for v in self.verdicts)}"
        ]
        for lang in sorted({v.question["lang"] for v in self.verdicts}):
            out.append(f"  lang {lang:6}{self.share(v for v in self.verdicts if v.question['lang'] == lang)}")
        for kind, _ in sorted(Counter(v.question["expect"] for v in self.verdicts).items()):
            out.append(f"  {kind:11}{self.share(v for v in self.verdicts if v.question['expect'] == kind)}")
        return out


def has_facts(text: str, facts: list[list[str]]) -> bool:
    folded = fold(text).replace("’", "'")
    return all(any(fold(f) in folded for f in group) for group in facts)


class Evaluator:
    """One real bot on a temporary database; `judge` sends a question as a new user and reads the reply."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._users = itertools.count(1)
        content = bot.services.content
        self._declines = {fold(content.template(lang, key)) for key in DECLINES for lang in ("fr", "en")}
        self._did_you_mean = {fold(content.template(lang, "did_you_mean")) for lang in ("fr", "en")}

    async def _send(
        self, user: str, text: str | None = None, choice: str | None = None, lang: str | None = None
    ) -> tuple[list[Reply], Any]:
        recorder = Recorder()
        inbound = Inbound(
            Chat(TRANSPORT, user, ChatKind.PRIVATE), Sender(user, "Bench", lang), text or "", choice, None, True
        )
        ctx = await self.bot.router.dispatch(inbound, recorder)
        return recorder.replies, ctx

    def _kind(self, replies: list[Reply]) -> str:
        texts = {fold(r.text.plain) for r in replies}
        if texts & self._declines:
            return "decline"
        if texts & self._did_you_mean:
            return "did-you-mean"
        return "reply"

    async def _did_the_command(self, text: str, facts: list[list[str]], lang: str) -> bool:
        """The reply is what the command the facts name replies ("je veux retirer ma signature" ran /retirer).

        With the arguments the content's intents run it with, too ("english please" ran /langue en).
        """
        intents = self.bot.services.content.chat.intents
        for command in (f for group in facts for f in group if f.startswith("/")):
            args = {""} | {f" {i.args}" for i in intents if i.args and f"/{i.command}" == command}
            for arg in sorted(args):
                replies, _ = await self._send(f"u{next(self._users)}", text=command + arg, lang=lang)
                if replies and "\n".join(r.text.plain for r in replies) == text:
                    return True
        return False

    async def judge(self, q: dict[str, Any]) -> Verdict:
        user = f"u{next(self._users)}"
        replies, ctx = await self._send(user, text=q["text"])
        text = "\n".join(r.text.plain for r in replies)
        kind = self._kind(replies)
        expect, facts = q["expect"], q.get("facts", [])
        if expect == "decline":
            return Verdict(q, "direct" if kind == "decline" else "wrong-confident", text)
        if expect == "smalltalk":
            return Verdict(q, "direct" if replies and kind != "decline" else "wrong", text)
        if expect == "sign":
            started = ctx is not None and ctx.dialogue is not None
            # A decline's main actions include Sign: that is not an answer to "how do I sign".
            offered = kind != "decline" and any(c.payload == "cmd:signer" for r in replies for c in r.choices)
            if started or offered:
                return Verdict(q, "direct", text)
            return Verdict(q, "wrong" if kind != "reply" else "wrong-confident", text)
        # "The petition says nothing about this" is the right answer to what the petition does not say.
        if kind != "did-you-mean" and has_facts(text, facts):
            return Verdict(q, "direct", text)
        if kind == "reply" and await self._did_the_command(text, facts, q["lang"]):
            return Verdict(q, "direct", text)
        if kind != "reply":  # "did you mean", or a decline suggesting the closest entries
            candidates = [c.payload for r in replies for c in r.choices if c.payload.startswith("faq:")][:3]
            for payload in candidates:
                pressed, _ = await self._send(user, choice=payload)
                if has_facts("\n".join(r.text.plain for r in pressed), facts):
                    return Verdict(q, "one-press", text)
            return Verdict(q, "wrong", text)
        return Verdict(q, "wrong-confident", text)


async def evaluate(questions: list[dict[str, Any]]) -> Report:
    """Every question judged by a fresh bot on a temporary database."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            env_file=None,
            database_path=Path(tmp) / "bench.sqlite3",
            pseudonym_key="bench-pseudonym-key-0123456789abcdef",
            flood_max_per_minute=10_000,
        )
        bot = await build_bot(settings)
        try:
            evaluator = Evaluator(bot)
            return Report([await evaluator.judge(q) for q in questions])
        finally:
            await bot.close()
