"""Chat language to plain words, from the campaign's lexicon (`chat.toml`), and small talk.

People write "c koi le hdh", "jsuis perdu pk microsoft", "merci !", "😀". The
lexicon's replacements turn chat forms into the words the content uses, and its
small-talk phrases recognise a message that is not a question at all. Both are
compared on the same folded words as the answer index (see `Analyzer.surface`),
so a phrase is written in content as people would type it, apostrophes and all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.content import ChatLexicon, Intent
from bot.spelling import dictionary

Surface = Callable[[str], str]  # text -> folded words separated by spaces (Analyzer.surface)


@dataclass(frozen=True)
class SmallTalkMatch:
    id: str  # the small-talk entry ("greeting", "thanks", ...)
    lang: str | None  # the language its phrases tell, when only one language has them


class ChatNormaliser:
    """Replaces chat forms by standard ones and tells small talk from questions."""

    def __init__(self, lexicon: ChatLexicon, surface: Surface) -> None:
        self.lexicon = lexicon
        self._smalltalk_ids = frozenset(t.id for t in lexicon.smalltalk)
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
        self._off_topic = [tuple(self.words(p)) for p in lexicon.off_topic if self.words(p)]
        self._insults = [tuple(surface(p).split()) for p in lexicon.insults if surface(p).split()]
        # Each phrase, and whether it may name a purpose rather than a cause ("pétition pour").
        self._causes = [(tuple(self.words(p)), False) for p in lexicon.other_causes if self.words(p)]
        self._causes += [(tuple(self.words(p)), True) for p in lexicon.other_purposes if self.words(p)]
        self._before = frozenset(w for p in lexicon.causes_before for w in self.words(p))
        self._bounds = frozenset(w for p in lexicon.cause_bounds for w in self.words(p))
        self._purpose_words = frozenset(w for p in lexicon.purpose_words for w in self.words(p))
        self._intents = [
            Intent(
                i.command,
                tuple(_folded(surface, g) for g in i.groups),
                i.run,
                _folded(surface, i.unless),
                i.entry,
                i.window,
                i.args,
                i.alone,
            )
            for i in lexicon.intents
        ]
        self._actions = [
            (entry.id, tuple(self.words(phrase)))
            for entry in lexicon.actions
            for p in entry.phrases.values()
            for phrase in p
        ]

    def without_insults(self, text: str) -> str:
        """The message without its insults ("t'es nul, qui héberge les données ?" → "qui héberge les données ?").

        Whole typed words are removed, so what is left reads as it was typed.
        """
        typed = text.split()
        folded = [(i, w) for i, token in enumerate(typed) for w in self._surface(token).split()]
        words = [w for _, w in folded]
        drop: set[int] = set()
        for phrase in self._insults:
            size = len(phrase)
            for start in range(len(words) - size + 1):
                if tuple(words[start : start + size]) == phrase:
                    drop.update(i for i, _ in folded[start : start + size])
        return " ".join(t for i, t in enumerate(typed) if i not in drop) if drop else text

    def off_topic(self, text: str) -> bool:
        """The message asks about something the bot never answers ("Microsoft's stock price")."""
        words = self.words(text)
        return any(_contains(words, phrase) for phrase in self._off_topic)

    def named_causes(self, text: str) -> list[list[str]]:
        """The words after each phrase that names a cause ("une pétition contre | la réforme des retraites").

        A phrase that may name a purpose does not when a purpose word follows it ("la pétition pour |
        mon député").
        """
        found = []
        for sentence in _SENTENCES.split(text):  # "…about digital sovereignty? I want a banner": one cause
            words = self.words(sentence)
            for phrase, purpose in self._causes:
                size = len(phrase)
                for i in range(len(words) - size + 1):
                    after = words[i + size :]
                    if tuple(words[i : i + size]) == phrase and not (
                        purpose and after[:1] and after[0] in self._purpose_words
                    ):
                        found.append(after)
        return found

    def causes_named_before(self, text: str, look: int = 3) -> list[list[str]]:
        """The words before each word that names a cause after them ("sign the A69 motorway | petition"),
        back to a bound ("the"), at most `look`."""
        found = []
        for sentence in _SENTENCES.split(text):
            words = self.words(sentence)
            for i, word in enumerate(words):
                if word not in self._before:
                    continue
                before: list[str] = []
                for w in reversed(words[max(0, i - look) : i]):
                    if w in self._bounds:
                        break
                    before.insert(0, w)
                if before:
                    found.append(before)
        return found

    def intents(self, text: str) -> list[Intent]:
        """Intents whose every word group the message has ("on est combien à avoir signé" → /compteur)."""
        ordered = self.words(text)
        found = self._intents_in(ordered)
        contrast = [i for i, w in enumerate(ordered) if w in _CONTRAST]
        if not found and contrast:
            # "je ne veux pas signer mais j'aimerais être tenu au courant": what comes after "mais" is asked.
            found = [i for i in self._intents_in(ordered[contrast[-1] + 1 :]) if not i.alone]
        clauses = self.clauses(text)
        if len(clauses) > 1:
            # "je voudrais retirer ma signature, mon mari dit que c'est pas sérieux": the "pas" of another
            # clause does not deny the request; "I don't want to sign right now, but could you let me know
            # when it reaches big milestones? Also how many people have signed?": each request counts.
            # Commands only: an entry a clause asks for ("mon fils a signé pour moi") is no request of its own.
            each = [i for c in clauses for i in self._intents_in(self.words(c)) if i.run and i.command and not i.alone]
            # Beside a request of the whole message only: "i started the sign up thing by mistake, how do i
            # stop it" asks how to stop, not to withdraw.
            if not found:
                found = list({id(i): i for i in each}.values())
            elif any(i.run and i.command for i in found):
                found = list({id(i): i for i in [*found, *(i for i in each if i.command)]}.values())
        return found

    def _intents_in(self, ordered: list[str]) -> list[Intent]:
        words = set(ordered)
        found = []
        for intent in self._intents:
            if not all(_has(words, g) for g in intent.groups) or _has(words, intent.unless):
                continue
            if intent.window and not _in_order(ordered, intent.groups, intent.window):
                continue
            if intent.alone and not all(w in self.fillers or any(_has({w}, g) for g in intent.groups) for w in ordered):
                continue
            found.append(intent)
        return found

    @staticmethod
    def clauses(text: str) -> list[str]:
        """The parts of a message between punctuation, "et" or "and" (a request in each, or a question)."""
        return [c for c in _CLAUSE_END.split(text) if c.strip()]

    def position(self, text: str, intent: Intent) -> int:
        """Where in the message an intent's last word group is ("…my signature and delete everything":
        the erasure comes after the withdrawal), or -1."""
        last = intent.groups[-1] if intent.groups else ()
        return next((n for n, w in enumerate(self.words(text)) if _has({w}, last)), -1)

    def besides_intents(self, text: str, intents: Iterable[Intent]) -> str:
        """The message without the intents' words: "can you explain in English what this is about"
        without "in English"."""
        words = tuple(w for intent in intents for group in intent.groups for w in group)
        return " ".join(w for w in self.words(text) if not _has({w}, words))

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
                out += _unglued(words[i])
                i += 1
        return out

    def words(self, text: str) -> list[str]:
        return self.replace(self._surface(text).split())

    def opens_with_smalltalk(self, text: str) -> SmallTalkMatch | None:
        """The small talk a message begins with ("merci beaucoup, c'est super clair"), else None."""
        words = self.words(text)
        i = 0
        while i < len(words) and words[i] in self.fillers and not self._phrases.get((words[i],)):
            i += 1
        for size in range(min(self._longest, len(words) - i), 0, -1):
            hits = self._phrases.get(tuple(words[i : i + size]))
            if hits:
                best = min(hits)
                langs = {lang for rank, _, lang in hits if rank == best[0]}
                return SmallTalkMatch(best[1], langs.pop() if len(langs) == 1 else None)
        return None

    def smalltalk_within(self, text: str, min_words: int = 1) -> list[SmallTalkMatch]:
        """Every small-talk phrase of `min_words` or more anywhere in a message, longest first at each place."""
        return self._split(text, min_words)[0]

    def besides_smalltalk(self, text: str) -> list[str]:
        """The message's words that are not part of a small-talk phrase ("ah d'accord" is no "accord")."""
        return self._split(text, 1)[1]

    def _split(self, text: str, min_words: int) -> tuple[list[SmallTalkMatch], list[str]]:
        words = self.words(text)
        found, rest = [], []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                hits = self._phrases.get(tuple(words[i : i + size])) if size >= min_words else None
                if hits:
                    best = min(hits)
                    langs = {lang for rank, _, lang in hits if rank == best[0]}
                    found.append(SmallTalkMatch(best[1], langs.pop() if len(langs) == 1 else None))
                    i += size
                    break
            else:
                rest.append(words[i])
                i += 1
        return found, rest

    def smalltalk(self, text: str) -> SmallTalkMatch | None:
        """The small talk a whole message is made of ("merci beaucoup !", "salut ça va"), else None.

        A message is small talk when its words are entirely covered by small-talk
        phrases and fillers, with at least one phrase; emoji or punctuation alone
        count as a friendly nod. The entry of highest precedence wins.
        """
        words = self.words(text)
        if not words:
            # "?" alone asks what one can do here; "👍" is a nod.
            asking = "?" in text and "capabilities" in self._smalltalk_ids
            return SmallTalkMatch("capabilities" if asking else "ack", None) if text.strip() else None
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


# French elisions typed without their apostrophe ("jusqua", "quon", "lhebergement", "jsigne"), longest
# first, with the word each stands for ("qu" is "que", so "ce quon" reads "ce que on").
_GLUED = (
    ("jusqu", "jusqu"),
    ("lorsqu", "lorsque"),
    ("puisqu", "puisque"),
    ("qu", "que"),
    ("j", "je"),
    ("l", "l"),
    ("d", "de"),
    ("c", "c"),
    ("n", "ne"),
    ("s", "s"),
    ("m", "me"),
    ("t", "te"),
)
_VOWELS = frozenset("aeiouyh")
_SENTENCES = re.compile(r"[.!?;\n]+")
_CLAUSE_END = re.compile(r"[.,;:!?]+(?:\s|$)|\s(?:et|and)\s", re.IGNORECASE)  # "effacez tout et confirmez-moi…"
_CONTRAST = frozenset({"mais", "but", "however", "cependant", "pourtant"})
_REPEATED = re.compile(r"(.)\1{2,}")
MIN_GLUED_ZIPF = 4.0  # the rest must be an everyday word: "comission" is not "c" + "omission"


def _unglued(word: str) -> list[str]:
    """A word in no dictionary that is an elision and a common word run together, as two words.

    Only "j" may come before a consonant ("jsigne", "jcomprends": SMS French); other
    elisions come before a vowel or h ("lhebergement", "quon", "dhabitude"). Letters
    typed three times or more count once ("merciii", "ouiii", "mdrrr").
    """
    if not word.isalpha() or word in dictionary():
        return [word]
    word = _REPEATED.sub(r"\1", word)
    if len(word) < 4 or word in dictionary():
        return [word]
    for glued, meaning in _GLUED:
        rest = word[len(glued) :]
        if word.startswith(glued) and len(rest) >= 2 and (glued == "j" or rest[0] in _VOWELS):
            if dictionary().get(rest, 0.0) >= MIN_GLUED_ZIPF:
                return [meaning, rest]
    return [word]


# Words that turn "want to sign" into "don't want to sign" when just before it.
# "je ne veux plus recevoir…": the "ne" belongs to "plus", the word an intent looks for ("plus … nouvelles").
# "bon en fait non, arrêtez de m'envoyer des trucs": a "non" before a stop verb does not undo it.
_ENDS_NEGATION = frozenset(("plus", "stop", "arrete", "arretez", "arreter", "cessez", "cesse"))
_NEGATIONS = frozenset(
    ("not", "ne", "pas", "never", "jamais", "no", "non", "sans", "without", "dont", "cant", "cannot")
)


def _negated(words: list[str], start: int) -> bool:
    """A negation in the two words before; "non" before "je" answers something else ("non je veux signer")."""
    return any(
        words[k] in _NEGATIONS and not (words[k] in _ANSWERS and words[k + 1 : k + 2] and words[k + 1] in _SUBJECTS)
        for k in range(max(0, start - 2), start)
    )


_ANSWERS = frozenset(("non", "no"))
_SUBJECTS = frozenset(("je", "j", "i", "on", "nous", "we"))


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    """`phrase` is in `words`, and not negated ("I don't want to sign something I don't understand")."""
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase and not _negated(words, i) for i in range(len(words) - size + 1))


def _folded(surface: Surface, words: tuple[str, ...]) -> tuple[str, ...]:
    """Intent words as the message's words are compared: folded, a trailing `*` kept (prefix match)."""
    return tuple(" ".join(surface(w).split()) + ("*" if w.endswith("*") else "") for w in words)


def _has(words: set[str], group: tuple[str, ...]) -> bool:
    """One of `group` is among `words`; "sign*" matches any word beginning with "sign"."""
    for wanted in group:
        if wanted.endswith("*"):
            if any(_matches(w, wanted) for w in words):
                return True
        elif wanted in words:
            return True
    return False


def _matches(word: str, wanted: str) -> bool:
    return word.startswith(wanted[:-1]) if wanted.endswith("*") else word == wanted


def _in_order(words: list[str], groups: tuple[tuple[str, ...], ...], window: int) -> bool:
    """Each group has a word at most `window` words after the previous group's ("how do i sign"), with no
    negation before the first ("je ne veux pas…") or between them ("je parle pas anglais")."""

    def from_(group: int, start: int, limit: int) -> bool:
        if group == len(groups):
            return True
        for i in range(start, min(limit, len(words))):
            if group == 0 and _negated(words, i) and words[i] not in _ENDS_NEGATION:
                continue
            if group > 0 and any(w in _NEGATIONS for w in words[start:i]):
                break  # "je parle pas anglais": a negation between the words
            if any(_matches(words[i], w) for w in groups[group]) and from_(group + 1, i + 1, i + 1 + window):
                return True
        return False

    return from_(0, 0, len(words))
