"""Chat language to plain words, from the campaign's lexicon (`chat.toml`), and small talk.

People write "c koi le hdh", "jsuis perdu pk microsoft", "merci !", "😀". The
lexicon's replacements turn chat forms into the words the content uses, and its
small-talk phrases recognise a message that is not a question at all. Both are
compared on the same folded words as the answer index (see `Analyzer.surface`),
so a phrase is written in content as people would type it, apostrophes and all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.content import ChatLexicon

Surface = Callable[[str], str]  # text -> folded words separated by spaces (Analyzer.surface)


@dataclass(frozen=True)
class SmallTalkMatch:
    id: str  # the small-talk entry ("greeting", "thanks", ...)
    lang: str | None  # the language its phrases tell, when only one language has them


class ChatNormaliser:
    """Replaces chat forms by standard ones and tells small talk from questions."""

    def __init__(self, lexicon: ChatLexicon, surface: Surface) -> None:
        self._surface = surface
        # Replacements by first word, longest first: "c koi" before "c".
        self._replacements: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        pairs = [(tuple(surface(k).split()), tuple(surface(v).split())) for k, v in lexicon.replacements.items()]
        for key, value in sorted(pairs, key=lambda p: -len(p[0])):
            if key:
                self._replacements.setdefault(key[0], []).append((key, value))
        self.fillers = frozenset(w for f in lexicon.fillers for w in surface(f).split())
        # Small-talk phrases as word tuples -> (precedence, id, language).
        self._phrases: dict[tuple[str, ...], list[tuple[int, str, str]]] = {}
        for rank, entry in enumerate(lexicon.smalltalk):
            for lang, phrases in entry.phrases.items():
                for phrase in phrases:
                    words = tuple(self.words(phrase))
                    if words:
                        self._phrases.setdefault(words, []).append((rank, entry.id, lang))
        self._longest = max((len(p) for p in self._phrases), default=0)
        self._actions = [
            (entry.id, tuple(self.words(phrase)))
            for entry in lexicon.actions
            for p in entry.phrases.values()
            for phrase in p
        ]

    def actions(self, text: str) -> list[str]:
        """Commands whose phrases the message contains ("je veux signer" anywhere offers Sign)."""
        words = self.words(text)
        found: list[str] = []
        for command, phrase in self._actions:
            if command not in found and phrase and _contains(words, phrase):
                found.append(command)
        return found

    def replace(self, words: list[str]) -> list[str]:
        """`words` (already folded) with chat forms replaced by standard ones."""
        out: list[str] = []
        i, n = 0, len(words)
        while i < n:
            for key, value in self._replacements.get(words[i], ()):
                if tuple(words[i : i + len(key)]) == key:
                    out += value
                    i += len(key)
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def words(self, text: str) -> list[str]:
        return self.replace(self._surface(text).split())

    def smalltalk(self, text: str) -> SmallTalkMatch | None:
        """The small talk a whole message is made of ("merci beaucoup !", "salut ça va"), else None.

        A message is small talk when its words are entirely covered by small-talk
        phrases and fillers, with at least one phrase; emoji or punctuation alone
        count as a friendly nod. The entry of highest precedence wins.
        """
        words = self.words(text)
        if not words:
            return SmallTalkMatch("ack", None) if text.strip() else None
        found: list[tuple[int, str, str]] = []
        i, n = 0, len(words)
        while i < n:
            for size in range(min(self._longest, n - i), 0, -1):
                hits = self._phrases.get(tuple(words[i : i + size]))
                if hits:
                    found += hits
                    i += size
                    break
            else:
                if words[i] not in self.fillers:
                    return None
                i += 1
        if not found:
            return None
        best = min(found)
        langs = {lang for rank, _, lang in found if rank == best[0]}
        return SmallTalkMatch(best[1], langs.pop() if len(langs) == 1 else None)


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))
