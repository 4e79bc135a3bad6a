"""What a typed reply means for the choices on offer: the one matching function of every transport.

People answer buttons with words: "je signe", "oui", "non merci", "la pétition",
the label without its emoji, its first words, or its number where numbers are
shown. `match_choice` reads all of these the same way on the console, on Matrix
(numbered lists, reactions) and on Telegram (text typed instead of a press).
`looks_like_question` tells a question typed in the middle of a dialogue from an
answer, so it can be answered and the dialogue asked again.
The words are campaign content (`replies.toml`), not code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from symspellpy.editdistance import DistanceAlgorithm, EditDistance

from bot.events import Choice
from bot.sanitize import fold

YES = "yes"
NO = "no"
YES_MARKS = frozenset("✅👍👌🆗✔")  # typed alone, a yes (as the ✅ reaction on Matrix is)
NO_MARKS = frozenset("❌👎✖🙅")
MEANINGS = (YES, NO)
_NOT_WORD = re.compile(r"[\W_]+")
# Emoji and pictographs, including letter-like ones that would fold to a letter (ℹ️ → "i").
_PICTOGRAPHS = re.compile("[\u2100-\u214f\u2190-\u2bff\u2e80-\u2eff\ufe00-\ufe0f\U0001f000-\U0001faff]")
_NUMBER = re.compile(r"^[\[(#]?\s*(\d{1,3})\s*[.)\]]?$")
MIN_BEGINNING_CHARS = 3  # "un" or "a" alone is too short to stand for a label
# A label's first words may be typed without its article: "groupes abonnés" for "Les groupes abonnés".
_ARTICLES = frozenset({"le", "la", "les", "l", "un", "une", "des", "the", "a", "an"})
MAX_EXTRA_WORDS = 2  # "oui merci", "non pas maintenant": a yes/no word followed by a few more
# Typos in a label: one letter wrong, missing, extra or swapped from 4 letters on ("anuler"), two from 8 ("anonymus").
_TYPOS = ((8, 2), (4, 1))
_DISTANCE = EditDistance(DistanceAlgorithm.DAMERAU_OSA)


def normalize(text: str) -> str:
    """Lower case, no accents, no emoji or punctuation, single spaces: "✅ Je signe !" → "je signe"."""
    return " ".join(_NOT_WORD.sub(" ", fold(_PICTOGRAPHS.sub(" ", text))).split())


@dataclass(frozen=True)
class ReplyWords:
    """Words that answer a yes/no question, and words that begin a question (normalised)."""

    yes: frozenset[str] = frozenset()
    no: frozenset[str] = frozenset()
    question_starts: frozenset[str] = frozenset()
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # other words for some answers
    question_words: frozenset[str] = frozenset()  # words that ask, wherever they are ("on en est à combien")
    step_help: frozenset[str] = frozenset()  # questions about the step itself ("lequel choisir ?")
    step_help_phrases: tuple[str, ...] = ()  # the same as written, for readers that normalise otherwise
    name_leads: tuple[tuple[str, ...], ...] = ()  # words before a typed name ("je m'appelle", "my name is")
    name_openers: tuple[tuple[str, ...], ...] = ()  # the same, only first in a message ("as Anonymous")
    pauses: frozenset[str] = frozenset()  # "attends", "bof jsp": neither an answer nor a name
    corrections: frozenset[str] = frozenset()  # "non je voulais dire", "sorry I meant": before a corrected choice
    courtesies: frozenset[str] = frozenset()  # "s'il vous plaît", "cordialement": after a name or an answer
    follow_up_starts: frozenset[str] = frozenset()  # "et", "and": a short question leaning on the last answer
    what_if_starts: frozenset[str] = frozenset()  # "est-ce que ça", "if I": asks what would happen, requests nothing

    @classmethod
    def of(
        cls,
        yes: Iterable[str],
        no: Iterable[str],
        question_starts: Iterable[str],
        aliases: Mapping[str, Iterable[str]] | None = None,
        question_words: Iterable[str] = (),
        step_help: Iterable[str] = (),
        name_leads: Iterable[str] = (),
        pauses: Iterable[str] = (),
        corrections: Iterable[str] = (),
        courtesies: Iterable[str] = (),
        name_openers: Iterable[str] = (),
        follow_up_starts: Iterable[str] = (),
        what_if_starts: Iterable[str] = (),
    ) -> ReplyWords:
        def normalized(words: Iterable[str]) -> frozenset[str]:
            return frozenset(n for n in (normalize(w) for w in words) if n)

        def leads(phrases: Iterable[str]) -> tuple[tuple[str, ...], ...]:
            return tuple(sorted({tuple(_name_words(p)) for p in phrases if _name_words(p)}, key=len, reverse=True))

        groups = {name: tuple(sorted(normalized(words))) for name, words in (aliases or {}).items()}
        return cls(
            normalized(yes),
            normalized(no),
            normalized(question_starts),
            groups,
            normalized(question_words),
            normalized(step_help),
            tuple(step_help),
            leads(name_leads),
            leads(name_openers),
            normalized(pauses),
            normalized(corrections),
            normalized(courtesies),
            normalized(follow_up_starts),
            normalized(what_if_starts),
        )

    def asks_what_if(self, typed: str) -> bool:
        """ "est-ce que ça enlève aussi ma signature ?", "if I withdraw, can I sign again?": a question about
        what a request would do, which is no request ("?" and one of `what_if_starts` first)."""
        key = normalize(typed).split()
        return "?" in typed and any(" ".join(key[:n]) in self.what_if_starts for n in range(1, min(len(key), 4) + 1))

    def is_pause(self, typed: str) -> bool:
        """ "attends", "euh bof jsp", "je sais pas": one pause phrase after another, nothing else."""
        return _made_of(normalize(typed), self.pauses)

    def typed_name(self, typed: str) -> str | None:
        """The name after words that introduce one: "Sous mon nom de jeune fille, Bernadette Lefèvre",
        "je m'appelle Jean", "my name is John Smith"; None when no such words come first or last before it."""
        if "?" in typed:
            # "mon nom sera public ?" asks; "Je m'appelle Nathalie Roux. Est-ce que mon employeur le verra ?"
            # gives the name in a sentence of its own.
            told = [s for s in _SENTENCES.split(typed) if s.strip() and "?" not in s]
            return next((n for n in map(self.typed_name, told) if n), None)
        spans = [(m.start(), m.end(), fold(m.group().lower())) for m in _NAME_TOKEN.finditer(typed)]
        words = [w for _, _, w in spans]
        # The lead that ends last: "je signe avec | mon nom | Robert Lemaire".
        ends = [
            i + len(lead)
            for lead in self.name_leads
            for i in range(len(words) - len(lead) + 1)
            if tuple(words[i : i + len(lead)]) == lead
        ] + [len(lead) for lead in self.name_openers if tuple(words[: len(lead)]) == lead]
        if not ends:
            # "ok just me then, David Hughes", "je signe d'abord : Collectif Libre Santé": words, then a
            # capitalised name after the last comma or colon.
            after = _name_after_words(typed)
            return self._without_tail(after) if after else None
        rest = typed[spans[max(ends) - 1][1] :].strip(" \t,:;-–—")
        rest = rest.rpartition(":")[2]  # "mets plutôt mon nom : Claire Moreau"
        rest = _name_after_words(rest) or rest  # "mets plutôt mon nom, Hugo Marchand"
        quoted = _QUOTED.search(rest)
        if quoted:
            rest = quoted.group(1)  # "au nom de mon association « Libertés Numériques 34 »"
        first = rest.split(maxsplit=1)
        if first and fold(first[0].lower()) in _NAME_LINKS:
            rest = first[1] if len(first) > 1 else ""
        return without_quotes(self._without_tail(rest.strip(" \t,:;-–—"))) or None  # "mettez 'Un dev'"

    def _without_tail(self, name: str) -> str:
        """ "Marc Dupont s'il vous plaît", "oui je confirme cordialement": a name or an answer without the
        polite words after it."""
        words = name.split()
        for n in range(1, len(words)):
            if _made_of(normalize(" ".join(words[n:])), self.courtesies):
                return " ".join(words[:n]).rstrip(" ,;:")
        return name

    def alias_in(self, typed: str, group: str) -> str | None:
        """The first of an answer's other words found in a message ("je veux signer mais | anonyme")."""
        key = f" {normalize(typed)} "
        return next((alias for alias in self.aliases.get(group, ()) if f" {alias} " in key), None)

    def only_answers(self, typed: str) -> bool:
        """Nothing but yes or no phrases ("Oui Oui", "Non merci"), unlike "Stop Martin"."""
        key = self._without_tail(normalize(typed))
        return _made_of(key, self.yes) or _made_of(key, self.no)

    def corrected(self, typed: str) -> str | None:
        """What follows the words of a correction ("non je voulais dire | anonyme", "sorry, I meant | my
        initials"), normalised; None when the message does not begin with one."""
        words = normalize(typed).split()
        for n in range(len(words) - 1, 0, -1):
            if _made_of(" ".join(words[:n]), self.corrections):
                return " ".join(words[n:])
        return None

    def about_the_step(self, typed: str) -> bool:
        """ "C'est quoi la différence ?", "je comprends pas", "which one?": help with the step, not an FAQ."""
        return _starts_with(normalize(typed), self.step_help)

    def meaning(self, typed: str) -> str | None:
        """YES, NO or None: "oui", "ok d'accord", "non merci", but not "ok ?" nor "oui et non"."""
        if "?" in typed:
            return None
        key = self._without_tail(normalize(typed))  # "Oui, je confirme. Cordialement."
        if not key:
            # "✅", "👍" typed alone: the yes of the button they stand for; "❌", "👎" the no.
            marks = {ch for ch in typed if not ch.isspace() and ch != "\ufe0f"}
            if marks and marks <= YES_MARKS:
                return YES
            if marks and marks <= NO_MARKS:
                return NO
            return None
        meant = _meaning(key, self.yes, self.no)
        if meant is None and _REPEATS.search(key):
            # "ouii", "nonn", "yess": a letter held down is the same word.
            meant = _meaning(_REPEATS.sub(r"\1", key), _collapsed(self.yes), _collapsed(self.no))
        return meant


def _meaning(key: str, yes_phrases: frozenset[str], no_phrases: frozenset[str]) -> str | None:
    # "oui c'est bon", "ok d'accord merci": several yes phrases in a row are one yes.
    yes = _starts_with(key, yes_phrases) or _made_of(key, yes_phrases)
    no = _starts_with(key, no_phrases) or _made_of(key, no_phrases)
    if yes and not no and not (set(key.split()) & no_phrases):
        return YES
    if no and not yes:
        return NO
    return None


_REPEATS = re.compile(r"(\w)\1+")


def _collapsed(phrases: frozenset[str]) -> frozenset[str]:
    return frozenset(_REPEATS.sub(r"\1", p) for p in phrases)


_NAME_TOKEN = re.compile(r"[^\s'’,:;]+")
_QUOTES = " \t'\"«»“”‘’"
_QUOTED = re.compile(r"[«“\"]\s*([^«»“”\"]+?)\s*[»”\"]")  # not "'": "d'agréer … l'expression"
MAX_NAME_WORDS = 4
# "mon nom est Jean", "my name is John", "make it just Alex"
_NAME_LINKS = frozenset(("est", "is", "c'est", ":", "=", "just", "juste", "only", "seulement"))


def _name_after_words(typed: str) -> str | None:
    """A capitalised name after the last comma or colon (else the end of a sentence: "ok je signe. Thomas
    Girard"), following lowercase words, else None."""
    ends = [m.end() - 1 for m in _SENTENCE_STOP.finditer(typed)]
    cut = max(typed.rfind(","), typed.rfind(":"), ends[-1] if ends else -1)
    head, tail = typed[:cut], typed[cut + 1 :]
    if cut >= 0 and _capitalised(tail.split()) and any(w[:1].islower() for w in head.split()):
        return tail.strip()
    return None


_SENTENCES = re.compile(r"(?<=[.!?])\s+")  # "Je m'appelle Nathalie Roux. | Est-ce que…?"
_SENTENCE_STOP = re.compile(r"(?<=[a-zà-ÿ]{3})[.!](?=\s)")  # "je signe. Thomas", not "Dr. Emily" nor "J. Smith"


def name_like(text: str) -> bool:
    """A few capitalised words, before any comma, and no question mark: "Claire", "Claire, infirmière"."""
    return "?" not in text and _capitalised(text.split(",", 1)[0].split())


def _capitalised(words: list[str]) -> bool:
    """Capitalised words, numbers among them allowed: "Collectif Santé Libre 35"."""
    if not 0 < len(words) <= MAX_NAME_WORDS or not any(w[:1].isupper() for w in words):
        return False
    return all(w[:1].isupper() or w[:1].isdigit() for w in words)


def _name_words(phrase: str) -> list[str]:
    return [fold(m.group().lower()) for m in _NAME_TOKEN.finditer(phrase)]


def _made_of(key: str, phrases: frozenset[str]) -> bool:
    """`key` is one phrase after another, each one of `phrases` ("oui c est bon")."""
    words = key.split()
    done = [True] + [False] * len(words)
    for end in range(1, len(words) + 1):
        done[end] = any(done[start] and " ".join(words[start:end]) in phrases for start in range(end))
    return bool(words) and done[-1]


def _starts_with(key: str, phrases: frozenset[str]) -> bool:
    """`key` is one of the phrases, or one followed by at most a couple of words."""
    if key in phrases:
        return True
    words = key.split()
    for n in range(1, len(words)):
        if " ".join(words[:n]) in phrases and len(words) - n <= MAX_EXTRA_WORDS:
            return True
    return False


def match_choice(
    typed: str, choices: Sequence[Choice], words: ReplyWords | None = None, *, numbers: bool = False, loose: bool = True
) -> Choice | None:
    """The choice a typed reply stands for, or None.

    In order: its number (only where numbers are shown: `numbers=True`); its label
    without emoji, case, accents or punctuation; on a question with a yes and a no
    choice, the usual words for yes and no; the first whole words of exactly one
    label; the same with a typo or two ("anonymus", "anuler"). Not `loose`: the label or the usual
    words only ("done?" asks whether it is done; it is no mistyped "don't sign").
    """
    typed = typed.strip()
    if not typed or not choices or typed[0] in "/!":  # a command is never an answer: /annuler cancels
        return None
    if numbers:
        number = _NUMBER.match(typed)
        if number:
            n = int(number.group(1))
            return choices[n - 1] if 1 <= n <= len(choices) else None
    key = normalize(typed)
    if words is not None and not key:
        mark = words.meaning(typed)  # "✅" or "👍" typed alone
        return _one([c for c in choices if mark is not None and c.meaning == mark])
    if not key or (words is not None and words.is_pause(typed)):
        return None  # "no wait", "attends": neither a choice nor its number
    labels = [normalize(c.label) for c in choices]
    exact = _one([c for c, label in zip(choices, labels, strict=True) if label == key])
    if exact is not None:
        return exact
    if words is not None:
        meaning = words.meaning(typed)
        meant = _one([c for c in choices if meaning is not None and c.meaning == meaning])
        if meant is not None:
            return meant
        meant = _yes_no_then_its_verb(key, choices, labels, words) if "?" not in typed else None
        if meant is not None:
            return meant
    if len(key) < MIN_BEGINNING_CHARS or not loose:
        return None
    start = _without_article(key.split())
    beginning = _one(
        [c for c, label in zip(choices, labels, strict=True) if _without_article(label.split())[: len(start)] == start]
    )
    return beginning if beginning is not None else _with_typos(key, choices, labels)


MAX_VERB_WORDS = 3  # "oui vas-y | efface", "yes go ahead | and sign": a few words after the yes
STEM_CHARS = 5  # "efface" is "effacer": words compared on their first letters
_BUT = frozenset(("mais", "but", "pas", "ne", "not", "dont", "don", "t", "never", "jamais", "sans", "without"))


def _yes_no_then_its_verb(
    key: str, choices: Sequence[Choice], labels: Sequence[str], words: ReplyWords
) -> Choice | None:
    """ "oui vas-y efface", "yes go ahead and sign": a yes (or no) followed by words of the same choice's
    label or other words, and by nothing that turns it around ("oui mais…", "yes but not…")."""
    said = key.split()
    for n in range(len(said) - 1, 0, -1):
        meaning = _meaning(" ".join(said[:n]), words.yes, words.no)
        rest = [w for w in said[n:] if w not in ("et", "and", "then", "alors")]
        if meaning is None or not rest or len(rest) > MAX_VERB_WORDS or set(rest) & _BUT:
            continue
        target = _one([c for c in choices if c.meaning == meaning])
        if target is None:
            return None
        own = {
            w[:STEM_CHARS]
            for c, label in zip(choices, labels, strict=True)
            if c.payload == target.payload
            for w in label.split()
        }
        return target if any(w[:STEM_CHARS] in own for w in rest if len(w) > 2) else None
    return None


def _without_article(words: list[str]) -> list[str]:
    return words[1:] if len(words) > 1 and words[0] in _ARTICLES else words


def _with_typos(key: str, choices: Sequence[Choice], labels: Sequence[str]) -> Choice | None:
    """The one label (or beginning of a label, in whole words) within a typo or two of `key`."""
    words = len(key.split())
    nearest = within_typos(key, [" ".join(label.split()[:words]) for label in labels])
    return _one([choices[i] for i in nearest])


def within_typos(typed: str, candidates: Sequence[str], typos: Sequence[tuple[int, int]] = _TYPOS) -> list[int]:
    """Positions of the candidates nearest to `typed`, within the typos its length allows (`typos`: from
    how many letters, how many); shared by typed labels and mistyped commands so both forgive alike."""
    allowed = next((n for length, n in typos if len(typed) >= length), 0)
    if not allowed:
        return []
    distances = [_DISTANCE.compare(typed, candidate, allowed) for candidate in candidates]
    best = min((d for d in distances if d >= 0), default=None)
    return [i for i, d in enumerate(distances) if best is not None and d == best]


def without_quotes(name: str) -> str:
    """'"Jean Dupont"', « Linus », "mettez 'Un dev'": quotes around a name are no part of it; one at one end
    only is ("'t Hooft")."""
    name = name.strip()
    return name.strip(_QUOTES) if len(name) > 2 and name[0] in _QUOTES and name[-1] in _QUOTES else name


def _one(found: Sequence[Choice]) -> Choice | None:
    """The choice all of `found` stand for (a label and its other words press the same), or None."""
    return found[0] if found and all(c.payload == found[0].payload for c in found) else None


def is_yes_no(choices: Sequence[Choice]) -> bool:
    """A yes and a no choice: a ✅ or ❌ reaction, or "oui"/"non", can answer it."""
    meanings = [c.meaning for c in choices]
    return meanings.count(YES) == 1 and meanings.count(NO) == 1


def by_meaning(choices: Sequence[Choice], meaning: str) -> Choice | None:
    return _one([c for c in choices if c.meaning == meaning])


def asks_something(text: str, words: ReplyWords) -> bool:
    """A question by its first words, or an asking word anywhere ("on en est à combien de signatures").

    Not for a step that takes free text such as a name, where only `looks_like_question` applies.
    """
    said = normalize(text).split()
    if looks_like_question(text, words) or any(w in words.question_words for w in said):
        return True
    # "bonjour qu'est ce qu'elle demande cette pétition", dictated without a question mark.
    padded = f" {' '.join(said)} "
    return any(f" {w} " in padded for w in words.question_words if " " in w)


def looks_like_question(text: str, words: ReplyWords) -> bool:
    """A question mark, or a first word that begins a question ("c'est quoi le HDH", "why Microsoft")."""
    if "?" in text:
        return True
    key = normalize(text).split()
    # The interrogative alone ("Quand") or as a name's first word is not enough: it needs a question after it.
    return any(" ".join(key[:n]) in words.question_starts for n in range(1, min(len(key), 4)))
