"""Text to index terms, for question answering: folding, clitics, question words, synonyms, stems.

Text is accent-folded, French elisions and English contractions are split off,
multi-word synonyms from content become one token, words are stemmed with
Snowball (PyStemmer) in French and English and single-word synonyms are merged
by stem, per language. Question words (qui/who, quand/when...) and negation are
kept as tokens of their own, because they tell "who hosts" from "since when" and
"sign" from "unsign". The small words of a question tell its language.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

from bot.sanitize import fold
from bot.spelling import languages_of

# A number written with thousands separators, as the petition writes its count ("18 882").
_THOUSANDS = re.compile(r"\b\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+\b")
_SEPARATOR = re.compile(r"[ \u00a0\u202f,.]")
_WORD = re.compile(r"\w+", re.U)
ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]+\b")
_APOSTROPHE = re.compile(r"[’ʼ`´]")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# English contractions first ("don't" must not leave "don", a French stem), then French elisions.
_NEGATION = re.compile(r"\b(can|won|ain)'t\b|n't\b")
_EN_CLITIC = re.compile(r"'(s|re|ve|ll|d|m)\b")
_FR_ELISION = re.compile(r"\b(?:jusqu|lorsqu|puisqu|quoiqu|qu|l|d|c|j|s|t|m)'")
_FR_NEGATION = re.compile(r"\bn'")

# Question words tell what kind of answer is wanted; they become tokens of their own.
_QUESTION_PHRASES = {
    "depuis quand": "qsince",
    "since when": "qsince",
    "how long": "qhowlong",
    "combien de temps": "qhowlong",
    "how many": "qcount",
    "how much": "qcount",
}
_QUESTION_WORDS = {
    "qui": "qwho",
    "who": "qwho",
    "quand": "qwhen",
    "when": "qwhen",
    "combien": "qcount",
    "pourquoi": "qwhy",
    "why": "qwhy",
    "comment": "qhow",
    "how": "qhow",
    "where": "qwhere",
    # Negation turns "sign" into "unsign" and "keep" into "leave".
    "ne": "qnot",
    "not": "qnot",
    "no": "qnot",
    "longer": "qnot",
}
_WHERE_FR = re.compile(r"\bou\b(?=\s+(?:est|sont|se|trouve|trouver|peut|peux|puis))")
# Fillers that say nothing about the topic (beyond bm25s' French and English lists).
_EXTRA_FRENCH = """
quoi quel quelle quels quelles est ce cet cette ca cela ceci voici voila a y il elle on ils elles vous tu moi toi
je nous fait faire fais choses truc dire dis dit dites sais savoir connais peux peut pouvez puis veux veut
voudrais aimerais explique expliquer expliquez bonjour salut merci svp stp exactement vraiment donc alors bien tout
tous toute toutes juste etre plus tres aussi encore deja ici la quelqu quelque genre type sorte maintenant
actuellement instant moment aujourd hui parler parle parlez parlent entendu entendre jusqu lorsque puisque
"""
_EXTRA_ENGLISH = """
a about above after again against all am an and any are as at be because been before being below between both but
by can could did do does doing down during each few for from further get got had has have having he her here hers
herself him himself his i if in into is it its itself just me more most my myself no nor not now of off on once
only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what whats which while
whom will with would you your yours yourself yourselves tell please hello hi thanks thank know explain thing
things anything something everything really actually exactly kind sort mean means currently today now yet still
talk talking speak speaking heard hear
"""
STOPWORDS = frozenset(
    fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN, *_EXTRA_FRENCH.split(), *_EXTRA_ENGLISH.split())
)
MIN_SYNONYM_STEM = 4


class Analyzer:
    """Text to index terms: fold, split clitics, map synonyms, drop stop words, stem.

    Stems carry their language ("f:heberg", "e:host"): a French document is
    stemmed in French only and an English one in English only, while a question,
    whose language is not known, gets both stems of each word. A document thus
    matches each question word at most once. Synonyms, numbers and question
    words are tokens shared by both languages.
    """

    def __init__(self, synonyms: Iterable[Iterable[str]], fillers: Iterable[str] = ()) -> None:
        self._ignored = STOPWORDS | {fold(f) for f in fillers}
        self._stemmers = {"fr": Stemmer.Stemmer("french"), "en": Stemmer.Stemmer("english")}
        phrases: dict[str, str] = dict(_QUESTION_PHRASES)
        self._word_synonyms: dict[str, str] = {}
        # Stem -> synonym token, per language: the French "stocker" (stem "stock") must not make the
        # English "stock price" a question about hosting.
        self._stem_synonyms: dict[str, dict[str, str]] = {"fr": {}, "en": {}}
        self.synonym_words: list[str] = []  # every word of every synonym, for typo correction
        for i, group in enumerate(synonyms):
            token = f"syn{i}"
            for phrase in group:
                words = self._surface(phrase).split()
                self.synonym_words += words
                if len(words) == 1:
                    self._word_synonyms.setdefault(words[0], token)
                    stems = self._raw_stems(words[0])
                    for lang in languages_of(words[0]):
                        if len(stems[lang]) >= MIN_SYNONYM_STEM:  # "don" (données) is also "donner"
                            self._stem_synonyms[lang].setdefault(stems[lang], token)
                elif words:
                    phrases[" ".join(words)] = token
        # Phrases by first word, longest first: "health data hub" before "health".
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for phrase, token in sorted(phrases.items(), key=lambda p: -len(p[0])):
            key = tuple(phrase.split())
            self._phrases.setdefault(key[0], []).append((key, token))

    @staticmethod
    def _surface(text: str) -> str:
        text = text.casefold()
        if "ou" in text:
            text = _WHERE_FR.sub("qwhere", text.replace("où", " qwhere "))
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))  # accent folding, as bot.sanitize.fold
        if "'" in text or not text.isascii():
            text = _APOSTROPHE.sub("'", text)
            text = _NEGATION.sub(" not", text)
            text = _EN_CLITIC.sub(" ", text)
            text = _FR_ELISION.sub(" ", text)
            text = _FR_NEGATION.sub("ne ", text)
        if any(ch.isdigit() for ch in text):
            text = _THOUSANDS.sub(lambda m: _SEPARATOR.sub("", m.group()), text)  # "18 882", "18,882": 18882
        return " ".join(_WORD.findall(text.replace("_", " ")))

    def surface(self, text: str) -> str:
        """Folded words separated by single spaces, clitics split off: what typo correction works on."""
        return self._surface(text)

    def words(self, text: str, questions: bool = True) -> list[str]:
        """Folded words and tokens in order; question words kept only when `questions`."""
        return self.tokens(self._surface(text).split(), questions)

    def tokens(self, words: list[str], questions: bool = True) -> list[str]:
        """`words` of text already passed through `surface` and split."""
        out = []
        i, n = 0, len(words)
        while i < n:
            w = words[i]
            i += 1
            for phrase, token in self._phrases.get(w, ()):
                if tuple(words[i - 1 : i - 1 + len(phrase)]) == phrase:
                    w = token
                    i += len(phrase) - 1
                    break
            w = _QUESTION_WORDS.get(w, w)
            if w in QUESTION_TOKENS:
                if questions:
                    out.append(w)
            elif w not in self._ignored and (len(w) > 1 or w.isdigit()):
                out.append(w)
        return out

    def _raw_stems(self, word: str) -> dict[str, str]:
        fr = self._stemmers["fr"].stemWord(word)
        if len(fr) > 4:
            fr = fr.rstrip("e")  # "donnée" and "données" stem apart otherwise
        return {"fr": fr, "en": self._stemmers["en"].stemWord(word)}

    @functools.lru_cache(maxsize=20_000)  # noqa: B019 - one analyzer per index, bounded cache
    def stems(self, word: str, lang: str | None = None, hint: str | None = None) -> tuple[str, ...]:
        """Index terms of one word: in `lang`, or in both languages when None (a question).

        `hint`: the question's language when its small words tell it; only that language's
        synonyms apply then, while stems of both languages are still tried.
        """
        if word.isdigit() or word in QUESTION_TOKENS or _SYNONYM_TOKEN.fullmatch(word):
            return (word,)
        if word in self._word_synonyms:
            return (self._word_synonyms[word],)
        stems = self._raw_stems(word)
        wanted = lang or hint
        for stem_lang in (wanted,) if wanted is not None else ("fr", "en"):
            token = self._stem_synonyms[stem_lang].get(stems[stem_lang])
            if token is not None:
                return (token,)
        if lang is not None:
            return (f"{lang[0]}:{stems[lang]}",)
        # A question's language is unknown, and an English word's stem often is the French one
        # ("organising", "organisé"): try each stem against documents of both languages.
        return tuple(dict.fromkeys(f"{p}:{s}" for s in (stems["fr"], stems["en"]) for p in "fe"))

    def terms(self, text: str, lang: str | None, questions: bool = True) -> list[str]:
        out: list[str] = []
        for word in self.words(text, questions):
            out.extend(self.stems(word, lang))
        return out


_SYNONYM_TOKEN = re.compile(r"syn[0-9]+")
QUESTION_TOKENS = frozenset((*_QUESTION_WORDS.values(), *_QUESTION_PHRASES.values(), "qwhere"))


# Small words that tell the question's language; words of both languages ("a", "on") tell nothing.
_FRENCH_WORDS = frozenset(fold(w) for w in (*STOPWORDS_FRENCH, *_EXTRA_FRENCH.split(), "comment", "pourquoi", "quand"))
_ENGLISH_WORDS = frozenset((*STOPWORDS_EN, *_EXTRA_ENGLISH.split(), "who", "when", "why", "how", "where"))
_FRENCH_HINTS = _FRENCH_WORDS - _ENGLISH_WORDS
_ENGLISH_HINTS = _ENGLISH_WORDS - _FRENCH_WORDS


MIN_TELLING_LETTERS = 4  # shorter words ("me", "data") are too often shared to tell a language


def language_of(words: list[str], small_words_only: bool = False, names: frozenset[str] = frozenset()) -> str | None:
    """ "fr" or "en" when the question's small words clearly say so ("what did the" / "qu'est-ce que").

    Else, unless `small_words_only`, words found in one language's dictionary only decide; not
    `names`, words both languages' content use ("Azure" is no English word here).
    """
    french = sum(w in _FRENCH_HINTS for w in words)
    english = sum(w in _ENGLISH_HINTS for w in words)
    if french == english and not small_words_only:
        # No small word tells ("forget me", "données santé"): words of one dictionary only decide.
        told = [languages_of(w) for w in words if len(w) >= MIN_TELLING_LETTERS and w not in names]
        french += sum(t == ("fr",) for t in told)
        english += sum(t == ("en",) for t in told)
    if french > english:
        return "fr"
    if english > french:
        return "en"
    return None
