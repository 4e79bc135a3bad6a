"""Free-text question answering over the campaign content, with BM25 from bm25s.

The index covers FAQ entries (one document per language: question, paraphrases
and answer), petition paragraphs, demands and chronology entries. Text is
accent-folded, synonyms from content are mapped to one token, words are stemmed
with Snowball (PyStemmer) in French and English, and query words that are not
in the vocabulary are corrected to a vocabulary word one edit away. Below a
score threshold the index answers nothing: the bot says it does not know rather
than guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

from bot.content import Content
from bot.sanitize import fold

_WORD = re.compile(r"\w+", re.U)
_EXTRA_STOPWORDS = {
    # Question words and fillers that say nothing about the topic.
    "quoi",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "comment",
    "pourquoi",
    "quand",
    "combien",
    "est",
    "ce",
    "qu",
    "c",
    "d",
    "l",
    "j",
    "n",
    "s",
    "t",
    "y",
    "what",
    "when",
    "why",
    "how",
    "who",
    "which",
    "does",
    "did",
    "do",
    "is",
    "are",
    "was",
    "were",
    "the",
    "a",
    "an",
    "of",
    "about",
    "tell",
    "me",
    "please",
    "stp",
    "svp",
    "bonjour",
    "hello",
    "hi",
    "salut",
    "dis",
    "moi",
    "explique",
    "expliquer",
    "sais",
    "savoir",
    "connais",
    "peux",
    "pouvez",
    "can",
    "could",
    "you",
    "vous",
    "tu",
    "il",
    "elle",
    "on",
    "fait",
    "faire",
    "chose",
    "thing",
    "petition",
    "pétition",
    "bot",
}
_STOPWORDS = frozenset(fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN, *_EXTRA_STOPWORDS))
MIN_TYPO_LENGTH = 5


@dataclass(frozen=True)
class Document:
    id: str  # FAQ id or petition passage id
    kind: str  # "faq", "paragraph", "demand", "chronology"
    lang: str | None  # None: the passage exists in one language only
    text: str


@dataclass(frozen=True)
class Answer:
    id: str
    kind: str
    lang: str | None
    score: float
    related: tuple[str, ...]


def documents(content: Content) -> list[Document]:
    docs = []
    for entry in content.faq:
        for lang in ("fr", "en"):
            text = " ".join((entry.question[lang], *entry.paraphrases[lang], entry.answer[lang]))
            docs.append(Document(entry.id, "faq", lang, text))
    p = content.petition
    docs += [Document(x.id, "paragraph", None, x.text) for x in p.paragraphs]
    docs += [Document(x.id, "demand", None, x.text) for x in p.demands]
    for c in p.chronology:
        docs.append(Document(c.id, "chronology", "fr", f"{c.date} {c.text}"))
        docs.append(Document(c.id, "chronology", "en", f"{c.sort_key[:4]} {c.text_en}"))
    return docs


class Analyzer:
    """Text to index terms: fold, map synonyms, drop stop words, stem in both languages."""

    def __init__(self, synonyms: Iterable[Iterable[str]]) -> None:
        pairs = []
        for i, group in enumerate(synonyms):
            for phrase in group:
                pairs.append((fold(phrase), f" syn{i} "))
        pairs.sort(key=lambda p: -len(p[0]))  # longest phrase first: "health data hub" before "data"
        self._synonyms = pairs
        self._pattern = re.compile("|".join(rf"\b{re.escape(phrase)}\b" for phrase, _ in pairs)) if pairs else None
        self._lookup = dict(pairs)
        self._fr = Stemmer.Stemmer("french")
        self._en = Stemmer.Stemmer("english")

    def words(self, text: str) -> list[str]:
        folded = fold(text).replace("'", " ").replace("’", " ")
        if self._pattern is not None:
            folded = self._pattern.sub(lambda m: self._lookup[m.group(0)], folded)
        return [w for w in _WORD.findall(folded) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]

    @functools.lru_cache(maxsize=20_000)  # noqa: B019 - one analyzer per process, bounded cache
    def stems(self, word: str) -> tuple[str, ...]:
        if word.startswith("syn") or word.isdigit():
            return (word,)
        fr = self._fr.stemWord(word)
        if len(fr) > 4:
            fr = fr.rstrip("e")
        en = self._en.stemWord(word)
        return (fr,) if fr == en else (fr, en)

    def terms(self, text: str) -> list[str]:
        out: list[str] = []
        for word in self.words(text):
            out.extend(self.stems(word))
        return out


class AnswerIndex:
    """Built once at start-up; `ask` is synchronous and takes well under a millisecond."""

    def __init__(self, docs: list[Document], analyzer: Analyzer, threshold: float) -> None:
        self.docs = docs
        self.analyzer = analyzer
        self.threshold = threshold
        corpus = [analyzer.terms(d.text) for d in docs]
        self.vocabulary = frozenset(t for terms in corpus for t in terms)
        self._deletions: dict[str, str] = {}
        for term in sorted(self.vocabulary):
            if len(term) >= MIN_TYPO_LENGTH - 1:
                for variant in _deletions(term):
                    self._deletions.setdefault(variant, term)
        self.bm25 = bm25s.BM25()
        self.bm25.index(corpus, show_progress=False)

    @classmethod
    def build(cls, content: Content, threshold: float = 2.5) -> AnswerIndex:
        return cls(documents(content), Analyzer(content.campaign.synonyms), threshold)

    def query_terms(self, question: str) -> list[str]:
        terms: list[str] = []
        for word in self.analyzer.words(question):
            stems = [s for s in self.analyzer.stems(word) if s in self.vocabulary]
            if not stems and len(word) >= MIN_TYPO_LENGTH:
                stems = [s for s in (self._correct(x) for x in self.analyzer.stems(word)) if s]
            terms.extend(s for s in stems if s not in terms)
        return terms

    def _correct(self, term: str) -> str | None:
        """A vocabulary term one insertion, deletion, substitution or transposition away."""
        if term in self._deletions:
            return self._deletions[term]
        for variant in _deletions(term):
            if variant in self.vocabulary:
                return variant
            candidate = self._deletions.get(variant)
            if candidate is not None and _one_edit(term, candidate):
                return candidate
        return None

    def scores(self, question: str) -> np.ndarray:
        terms = self.query_terms(question)
        if not terms:
            return np.zeros(len(self.docs), dtype=np.float32)
        scores: np.ndarray = self.bm25.get_scores(terms)
        return scores

    def ask(self, question: str, related: int = 3) -> Answer | None:
        scores = self.scores(question)
        if len(scores) == 0:
            return None
        order = np.argsort(-scores)
        best = self.docs[int(order[0])]
        best_score = float(scores[order[0]])
        if best_score < self.threshold:
            return None
        others: list[str] = []
        for i in order[1:12]:
            doc = self.docs[int(i)]
            if float(scores[i]) < max(self.threshold, best_score * 0.4):
                break
            if doc.id != best.id and doc.id not in others:
                others.append(doc.id)
            if len(others) == related:
                break
        return Answer(best.id, best.kind, best.lang, best_score, tuple(others))


def _one_edit(a: str, b: str) -> bool:
    """Same length and one substitution or one adjacent transposition (deletions are checked by the caller)."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _deletions(term: str) -> set[str]:
    return {term[:i] + term[i + 1 :] for i in range(len(term))}
