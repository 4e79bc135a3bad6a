"""Free-text question answering over the campaign content, with BM25 from bm25s.

An answerable passage is a FAQ entry in one language, or a petition paragraph,
demand or chronology entry. A FAQ entry is indexed as several small units: each
way of asking it (question and paraphrases) alone, so that a question phrased
like one of them matches it closely instead of being diluted by the answer; its
answer; and all its ways of asking together, so that words spread over several
paraphrases still add up. A passage is one unit. bm25s builds the index (IDF,
saturation, length normalisation); a document's score is its best way of asking
plus its answer plus half of all its ways of asking. At query time the per-term
scores bm25s precomputed are read as dense rows, which keeps `ask` within about
twice a bare `get_scores` call (bench/answers.py).

Text becomes index terms in `bot/analysis.py`; a query word in no dictionary is
corrected to a content word (`bot/spelling.py`).

The bot must not guess. It declines unless enough of the question's topic words
are known to the content, and its tier (answer, "did you mean", unsure, decline)
follows how much of the question the best passage holds: the IDF-weighted share
of its topic words, where a word the content lacks weighs more when it is rare
in everyday language. The answer comes in the language the question's small
words show ("what did the", "qu'est-ce que").
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np

from bot.analysis import ACRONYM, QUESTION_TOKENS, STOPWORDS, Analyzer, language_of
from bot.content import LANGUAGES, ChatLexicon, Content
from bot.lexicon import ChatNormaliser
from bot.sanitize import fold
from bot.spelling import MIN_TYPO_LENGTH, Speller

CORRECTION_DISCOUNT = 0.25
MIN_TOPIC_LENGTH = 4

# Scoring weights and decline rule (see module docstring).
BM25_K1 = 1.5
BM25_B = 0.75
BODY_WEIGHT = 1.0  # an answer's text counts as much as the best way of asking
QUESTIONS_WEIGHT = 0.5  # all ways of asking together, so that words spread over paraphrases add up
MIN_COVERAGE = 0.5  # share of the question's topic words the content knows
MIN_RELATIVE = 0.1  # best score over the best score each query term could earn
RELATED_SHARE = 0.6  # "see also" entries score at least this share of the best
CLOSE_SHARE = 0.85  # a runner-up this close to the best is a close call: the bot asks which one
CONFIDENT_RELATIVE = 0.3  # below this share of the ceiling, the best is offered, not asserted
SAME_LANGUAGE_SHARE = 0.9  # a language-neutral question gets the user's language unless it fits far worse
SUGGEST_SHARE = 0.75  # suggestions after a decline score at least this share of the best
CANDIDATES = 3  # at most this many "did you mean" choices
CANDIDATE_SHARE = 0.5  # a "did you mean" candidate scores at least this share of the best
# Tiers by the IDF-weighted share of the question's topic words the best passage holds (`coverage`).
DECLINE_COVERAGE = 0.25  # below: decline
UNSURE_COVERAGE = 0.55  # below: "no sure answer in the petition; is it one of these?"
RARE_ZIPF = 3.5  # an unknown word this rare in everyday language weighs as much as the rarest content word
COMMON_ZIPF = 6.0  # an unknown word this common weighs MIN_UNKNOWN_SHARE of that
EVERYDAY_ZIPF = 5.5  # "beaucoup", "save", "people": too common to name a cause
RARER_ZIPF = 4.5  # "privacy", "Telegram": content words that tell what a message is about ("answer" does not)
MIN_UNKNOWN_SHARE = 0.35
OWN_SHARE = 0.6  # a follow-up's own words give the entry it asks for this share of their best score at least
FOLLOW_UP_LEAD = 0.15  # ... and, with the context's share added, it leads the next entry by this much
CONFIDENT_COVERAGE = 0.6  # an answer is asserted only when its passage holds this share
# ... and scores well above what the question's words could earn (CONFIDENT_RELATIVE), unless the passage
# holds this much of the question and no other scores half as well ("is this legit or some kind of phishing").
ALL_COVERED = 0.85


@dataclass(frozen=True)
class Document:
    """One answerable passage: what the reply will show."""

    id: str  # FAQ id or petition passage id
    kind: str  # "faq", "paragraph", "demand", "chronology"
    lang: str | None  # None: the passage exists in one language only
    questions: tuple[str, ...]  # ways of asking (FAQ only)
    text: str  # the answer or the passage
    date: str = ""  # a chronology event's date, as shown in `lang` ("Décembre 2023")


@dataclass(frozen=True)
class Answer:
    id: str
    kind: str
    lang: str | None
    score: float
    related: tuple[str, ...]  # "see also" entries
    candidates: tuple[str, ...] = ()  # when not confident: the best and its close runners-up
    tier: str = "answer"  # "answer", "did_you_mean" (close call), or "unsure" (the passages miss part of it)
    relative: float = 1.0  # score over the most the question's terms could earn
    coverage: float = 1.0  # the weighted share of the question's topic words the passage holds
    several: tuple[str, ...] = ()  # several questions in one message, each answered surely: their entries

    @property
    def confident(self) -> bool:
        return self.tier == "answer"


def documents(content: Content) -> list[Document]:
    docs = []
    for entry in content.faq:
        for lang in LANGUAGES:
            questions = (entry.question[lang], *entry.paraphrases[lang])
            docs.append(Document(entry.id, "faq", lang, questions, entry.answer[lang]))
    p = content.petition
    docs += [Document(x.id, "paragraph", None, (), x.text) for x in p.paragraphs]
    docs += [Document(x.id, "demand", None, (), x.text) for x in p.demands]
    for c in p.chronology:
        docs += [
            Document(c.id, "chronology", lang, (), f"{c.date[lang]} {c.text[lang]}", c.date[lang]) for lang in LANGUAGES
        ]
    return docs


@dataclass(slots=True)
class QueryTerms:
    """What the index understood of a question."""

    terms: list[str]  # index terms, each once
    topic_words: int  # words that should be about the topic (not stop or question words)
    known_words: float  # of those, how many the content knows (after typo correction)
    ceiling: float  # the most any document could score: each word matched at its best
    ids: list[int] = field(default_factory=list)  # `terms` as bm25s token ids
    lang: str | None = None  # the question's language, when its small words tell it
    # Each topic word's term ids (empty when the content does not know it) and its weight (IDF).
    topic_ids: list[tuple[int, ...]] = field(default_factory=list)
    topic_weights: list[float] = field(default_factory=list)


class AnswerIndex:
    """Built once at start-up; `ask` is synchronous and takes well under a millisecond."""

    def __init__(
        self,
        docs: list[Document],
        analyzer: Analyzer,
        min_coverage: float = MIN_COVERAGE,
        min_relative: float = MIN_RELATIVE,
        commands: Iterable[str] = (),
        normaliser: ChatNormaliser | None = None,
    ) -> None:
        self.docs = docs
        self._shared: frozenset[str] | None = None  # see `_shared_words`, read on first use
        self.analyzer = analyzer
        self.min_coverage = min_coverage
        self.min_relative = min_relative
        # Units: every way of asking, grouped by document (for reduceat), then one body per document.
        units: list[list[str]] = []
        starts: list[int] = []
        self._asked = np.array([bool(d.questions) for d in docs])
        for d in docs:
            if d.questions:
                starts.append(len(units))
                units += [analyzer.terms(q, d.lang or "fr") for q in d.questions]
        self._question_units = len(units)
        self._starts = np.array(starts, dtype=np.intp)
        units += [analyzer.terms(d.text, d.lang or "fr", questions=False) for d in docs]
        self._body_end = len(units)
        units += [analyzer.terms(" ".join(d.questions), d.lang or "fr") for d in docs]
        self.units = units
        self.bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        self.bm25.index(units, show_progress=False)
        vocab: dict[str, int] = self.bm25.vocab_dict
        self.vocabulary = vocab
        # The most a term can add to one unit's score: the denominator of the relative score.
        data, indptr = self.bm25.scores["data"], self.bm25.scores["indptr"]
        self._term_max = [float(data[indptr[i] : indptr[i + 1]].max(initial=0.0)) for i in range(len(indptr) - 1)]
        # bm25s stores each term's precomputed score in every unit (sparse, by term). Laid out dense,
        # a query is a sum of a few rows: the per-document part (body and all ways of asking,
        # weighted) and the per-way-of-asking part, whose best per document is added after.
        dense = np.zeros((len(indptr) - 1, len(units)), dtype=np.float32)
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        dense[rows, self.bm25.scores["indices"]] = data
        self._per_question = np.ascontiguousarray(dense[:, : self._question_units])
        self._per_document = np.ascontiguousarray(
            dense[:, self._question_units : self._body_end] * BODY_WEIGHT
            + dense[:, self._body_end :] * QUESTIONS_WEIGHT
        )
        # Which terms each document contains (body or any way of asking), and each term's IDF over documents.
        self._present = self._per_document > 0
        self._present[:, : len(self._starts)] |= np.maximum.reduceat(self._per_question > 0, self._starts, axis=1)
        frequency_in_docs = self._present.sum(axis=1)
        # Terms of the petition itself (text, demands, timeline): what its cause is about, unlike the
        # everyday words of the FAQ's ways of asking ("save", "local").
        petition = [i for i, d in enumerate(docs) if d.kind != "faq"]
        self._petition_terms = frozenset(np.flatnonzero(self._present[:, petition].any(axis=1)).tolist())
        n_docs = len(docs)
        self._idf = np.log(1 + (n_docs - frequency_in_docs + 0.5) / (frequency_in_docs + 0.5))
        self._unknown_idf = float(np.log(1 + (n_docs + 0.5) / 0.5))
        self._words: dict[tuple[str, str | None], tuple[tuple[str, ...], tuple[int, ...], float]] = {}
        self._doc_ids = [d.id for d in docs]
        self._siblings = {(d.id, d.lang): i for i, d in enumerate(docs) if d.lang is not None}
        # Surface words for typo correction, with how often each occurs.
        frequency: Counter[str] = Counter()
        for d in docs:
            for text in (*d.questions, d.text):
                frequency.update(analyzer.surface(text).split())
        frequency.update(analyzer.synonym_words)
        for word in [w for w in frequency if w in STOPWORDS]:
            del frequency[word]  # "world" is not a typo of "would"
        self.speller = Speller(frequency, commands)
        self.normaliser = normaliser or ChatNormaliser(ChatLexicon({}, (), ()), analyzer.surface)
        # Each event's date as index terms ({"f:decembr", "2023"}), and the words that ask what happened.
        self._dates = [(d.id, frozenset(analyzer.terms(d.date, d.lang or "fr"))) for d in docs if d.date]
        self._date_terms = frozenset(t for _, date in self._dates for t in date)
        self._event_terms = frozenset(t for w in self.normaliser.lexicon.event_words for t in analyzer.terms(w, None))
        self._generic_terms = frozenset(
            t for w in ("petition", "petitions", "signer", "sign", "signature", "signatures") for t in analyzer.stems(w)
        )
        # Each way of asking as the set of terms a question asked exactly so has (both stems of each word).
        self._exact: dict[frozenset[str], str] = {}
        for d in docs:
            for asked in d.questions:
                stems = (t for w in analyzer.tokens(self.words(asked)) for t in analyzer.stems(w))
                self._exact.setdefault(frozenset(t for t in stems if t in self.vocabulary), d.id)

    @classmethod
    def build(
        cls,
        content: Content,
        min_coverage: float = MIN_COVERAGE,
        min_relative: float = MIN_RELATIVE,
        commands: Iterable[str] = (),
    ) -> AnswerIndex:
        """`commands`: command names, never the target of a typo correction."""
        analyzer = Analyzer(content.campaign.synonyms, content.chat.fillers)
        normaliser = ChatNormaliser(content.chat, analyzer.surface)
        return cls(documents(content), analyzer, min_coverage, min_relative, commands, normaliser)

    def words(self, question: str) -> list[str]:
        """The question's folded words, chat forms replaced by standard ones."""
        return self.normaliser.replace(self.analyzer.surface(question).split())

    def query(self, question: str) -> QueryTerms:
        surface = self.words(question)
        lang = language_of(surface, names=self._shared_words())
        fixed = [self._fix(w) for w in surface]
        corrections = sum(a != b for a, b in zip(surface, fixed, strict=True))
        corrected = {b for a, b in zip(surface, fixed, strict=True) if a != b}
        seen: set[str] = set()
        topic_ids: list[tuple[int, ...]] = []
        topic_weights: list[float] = []
        terms: list[str] = []
        ids: list[int] = []
        topic = known = 0
        ceiling = 0.0
        acronyms: set[str] | None = None
        for word in self.analyzer.tokens(fixed):
            info = self._words.get((word, lang))
            if info is None:
                info = self._word_info(word, lang)
            word_terms, word_ids, word_ceiling = info
            if word not in QUESTION_TOKENS:
                counted = bool(word_terms) or len(word) >= MIN_TOPIC_LENGTH or word.isdigit()
                if not counted:
                    # An unknown word of one to three letters ("wat", "pls") is more likely noise than
                    # a topic, unless written as an acronym ("PSG").
                    if acronyms is None:
                        acronyms = {fold(a) for a in ACRONYM.findall(question)}
                    counted = word in acronyms
                if counted and word not in seen:
                    seen.add(word)
                    topic += 1
                    known += bool(word_terms)
                    topic_ids.append(word_ids)
                    topic_weights.append(self._weight(word, word_ids, corrected=word in corrected))
            if word_terms and word_terms[0] not in terms:
                ceiling += word_ceiling
                terms += word_terms
                ids += word_ids
        # A corrected word is a guess: it counts less towards coverage.
        weight = 1 + BODY_WEIGHT + QUESTIONS_WEIGHT
        return QueryTerms(
            terms,
            topic,
            known - CORRECTION_DISCOUNT * corrections,
            weight * ceiling,
            ids,
            lang,
            topic_ids,
            topic_weights,
        )

    def _weight(self, word: str, ids: tuple[int, ...], corrected: bool) -> float:
        """How much a topic word tells: its IDF over the documents.

        A word the content lacks tells the most when it is rare in everyday language
        ("horoscope", "elections"), less when it is an everyday word ("want", "urgent"),
        which a question about the campaign may well contain.
        """
        if ids:
            weight = max(float(self._idf[i]) for i in ids)
        else:
            everyday = min(1.0, max(0.0, (self.speller.zipf(word) - RARE_ZIPF) / (COMMON_ZIPF - RARE_ZIPF)))
            weight = self._unknown_idf * (1 - (1 - MIN_UNKNOWN_SHARE) * everyday)
        return weight * (1 - CORRECTION_DISCOUNT) if corrected else weight

    def _same_kind(self, q: QueryTerms, best: int, other: str) -> bool:
        """Whether `other` answers the same kind of question as the best passage.

        "Depuis quand … ?" is answered by the entry that has "depuis quand" in its ways of
        asking; an entry that scores as well without it is no close call.
        """
        wanted = [i for t, i in zip(q.terms, q.ids, strict=True) if t in QUESTION_TOKENS]
        if not wanted or not self._present[wanted, best].all():
            return True
        rows = self._present[wanted]
        return any(rows[:, i].all() for i, doc_id in enumerate(self._doc_ids) if doc_id == other)

    def coverage(self, q: QueryTerms) -> np.ndarray:
        """Per document, the IDF-weighted share of the question's topic words it contains.

        The question "Microsoft's stock price today" shares "Microsoft" with the content
        but its distinctive words ("stock", "price") are nowhere: no document covers it,
        so the bot declines instead of answering about Microsoft.
        """
        total = sum(q.topic_weights)
        covered = np.zeros(len(self.docs), dtype=np.float32)
        if total <= 0:
            return covered
        for ids, weight in zip(q.topic_ids, q.topic_weights, strict=True):
            if ids:
                covered += weight * self._present[list(ids)].any(axis=0)
        # A FAQ entry is one answer in two languages: it covers what either version covers.
        by_id: dict[str, float] = {}
        for i, doc_id in enumerate(self._doc_ids):
            by_id[doc_id] = max(by_id.get(doc_id, 0.0), float(covered[i]))
        return np.array([by_id[d] for d in self._doc_ids], dtype=np.float32) / total

    def _word_info(self, word: str, hint: str | None) -> tuple[tuple[str, ...], tuple[int, ...], float]:
        """A query word's index terms and their ids, and the most it can add to a score (cached)."""
        terms = tuple(s for s in self.analyzer.stems(word, hint=hint) if s in self.vocabulary)
        ids = tuple(self.vocabulary[t] for t in terms)
        # A document matches a word in one language only: count its best stem once.
        info = (terms, ids, max((self._term_max[i] for i in ids), default=0.0))
        if len(self._words) < 20_000:
            self._words[(word, hint)] = info
        return info

    def _fix(self, word: str) -> str:
        """The word, or the content word it is most likely a typo of (see bot/spelling.py)."""
        if len(word) < MIN_TYPO_LENGTH or word in STOPWORDS:
            return word
        return self.speller.correct(word)

    def in_scope(self, q: QueryTerms) -> bool:
        """Enough of the question is known: one known word next to as many unknown ones is a coin toss."""
        if not q.terms or q.known_words <= 0:
            return False
        coverage = q.known_words / max(q.topic_words, 1)
        return coverage > self.min_coverage or (coverage == self.min_coverage and q.known_words >= 2)

    def suggest(self, question: str, limit: int = CANDIDATES) -> list[str]:
        """For a question the index declines: the passages closest to its known words, best first."""
        q = self.query(question)
        if not q.terms:
            return []
        scores = self.scores(q.terms, q.ids)
        best = float(scores.max())
        if best <= 0:
            return []
        found: list[str] = []
        for i in np.argsort(-scores).tolist():
            if scores[i] < best * SUGGEST_SHARE or len(found) == limit:
                break
            if self._doc_ids[i] not in found:
                found.append(self._doc_ids[i])
        return found

    def language(self, question: str, small_words_only: bool = False) -> str | None:
        """ "fr" or "en" when the question's small words tell it (or, unless `small_words_only`, its
        dictionary words: "https://example.org/alice" is no English sentence)."""
        # "sign me as J. Smith": an initial is no French "j'".
        return language_of(self.words(_INITIAL.sub(" ", question)), small_words_only, self._shared_words())

    def _shared_words(self) -> frozenset[str]:
        """Words of both languages' content ("azure", "microsoft", "cnil"): names, which tell no language."""
        if self._shared is None:
            by_lang: dict[str, set[str]] = {}
            for doc in self.docs:
                if doc.lang is not None:
                    by_lang.setdefault(doc.lang, set()).update(self.analyzer.surface(doc.text).split())
            sets = list(by_lang.values())
            self._shared = frozenset(set.intersection(*sets)) if len(sets) > 1 else frozenset()
        return self._shared

    def mostly_unknown(self, question: str, at_least: int = 3, ratio: float = 1.0) -> bool:
        """More topic words the content does not know than `ratio` times those it knows, and at least `at_least`."""
        q = self.query(question)
        unknown = q.topic_words - q.known_words
        return unknown >= at_least and unknown > ratio * q.known_words

    def about_another_cause(self, question: str, look: int = 3) -> bool:
        """A cause is named ("petition to save my library") and most of its first uncommon words are not the
        petition's: "la pétition contre Microsoft" names this campaign's cause.
        """
        named = self.normaliser.named_causes(question)
        # English only: "elle demande quoi concrètement cette pétition" names no cause before it.
        if self.language(question) == "en":
            named += self.normaliser.causes_named_before(question, look)
        for words in named:
            topic = [w for w in self.analyzer.tokens(words, questions=False) if self._names_a_cause(w)][:look]
            ours = sum(self._in_petition(w) for w in topic)
            if topic and ours < len(topic) - ours:
                return True
        return False

    def about_the_petition(self, question: str) -> bool:
        """Some uncommon word of the question, besides small talk, is a word of the petition ("CNIL", "données")."""
        words = self.analyzer.tokens(self.normaliser.besides_smalltalk(question))
        return any(self._names_a_cause(w) and self._in_petition(w) for w in words)

    def names_the_petition(self, question: str) -> bool:
        """Some rare word of the question is one of the petition's own ("EMC2", "extraterritoriales").

        Stricter than `about_the_petition`: "changer", "french" or "bot" do not count.
        """
        words = self.analyzer.tokens(self.normaliser.besides_smalltalk(question))
        return any(self.speller.zipf(w) < RARER_ZIPF and self._names_a_cause(w) and self._in_petition(w) for w in words)

    def about_the_campaign(self, question: str) -> bool:
        """Some rarer word of the question, besides small talk, is a word of the content ("privacy", "Telegram")."""
        words = self.analyzer.tokens(self.normaliser.besides_smalltalk(question), questions=False)
        return any(self.speller.zipf(w) < RARER_ZIPF and self._word_info(self._fix(w), None)[0] for w in words)

    def _names_a_cause(self, word: str) -> bool:
        """Not "petition" or "sign", nor an everyday word ("beaucoup", "save"): "retraites", "library"."""
        return len(word) > 2 and not self._generic(word) and self.speller.zipf(word) < EVERYDAY_ZIPF

    def _in_petition(self, word: str) -> bool:
        """A word of the petition's own text, demands or timeline."""
        return any(i in self._petition_terms for i in self._word_info(self._fix(word), None)[1])

    def _generic(self, word: str) -> bool:
        """A word any petition shares with this one: "petition", "sign", "signature"."""
        terms = set(self._word_info(self._fix(word), None)[0])
        return bool(terms) and terms <= self._generic_terms

    def names_more_than(self, text: str, other: str) -> bool:
        """`text` has a term of the petition's own text that `other` lacks, besides the words any petition
        has: "les dés étaient pipés" names a passage, "un message sur une pétition Microsoft" its title."""
        q = self.query(text)
        extra = set(q.terms) - set(self.query(other).terms) - self._generic_terms
        # In a French message, "transféré" is not the English timeline's "transfer".
        other_language = {"fr": "e:", "en": "f:"}.get(q.lang or "", "-")
        return any(
            self.vocabulary[t] in self._petition_terms
            for t in extra
            if t not in QUESTION_TOKENS and not t.startswith(other_language)
        )

    def mentions_campaign(self, question: str) -> bool:
        """Some word of the question is a word of the content (after typo correction)."""
        return self.query(question).known_words > 0

    def query_terms(self, question: str) -> list[str]:
        return self.query(question).terms

    def scores(self, terms: Sequence[str], ids: Sequence[int] | None = None) -> np.ndarray:
        """One score per document: best way of asking, plus shares of the body and of all ways of asking."""
        if not terms:
            return np.zeros(len(self.docs), dtype=np.float32)
        if ids is None:
            ids = [self.vocabulary[t] for t in terms]
        rows = np.array(ids, dtype=np.intp)
        total: np.ndarray = self._per_document[rows].sum(axis=0)
        # FAQ documents come first (see `documents`): add their best way of asking.
        best_asked = np.maximum.reduceat(self._per_question[rows].sum(axis=0), self._starts)
        total[: len(self._starts)] += best_asked
        return total

    def in_context(self, question: str, context: str, previous: str, related: int = 3) -> Answer | None:
        """The entry a short follow-up asks for, read with the question it follows, or None.

        Each entry scores the share of the best it gets on the follow-up's own words plus the share it
        gets on the context's: "how long?" fits the CNIL's authorisation as well as a deadline to sign,
        and after "what did the CNIL decide?" the context tells them apart. The follow-up's own words
        must reach the entry (OWN_SHARE), and it must lead clearly (FOLLOW_UP_LEAD). Its "see also" are
        the entries next to it on both readings. The `previous` entry (the context's own) wins only on its
        own words too: "and for how long?" after what the bot keeps is answered there, not by the CNIL's
        three years; otherwise it is left out, its full share of the context weighing nothing."""
        own_q, around_q = self.query(question), self.query(context)
        if own_q.known_words < own_q.topic_words:
            return None  # "et le PSG ?": a word the campaign does not know is what it is about
        own, around = self.scores(own_q.terms, own_q.ids), self.scores(around_q.terms, around_q.ids)
        if own.max() <= 0 or around.max() <= 0:
            return None
        own, around = own / own.max(), around / around.max()
        total = own + around
        # Each entry once, at its best document; a few entries are enough to rank the first ones.
        ranked: list[tuple[str, float, float, int]] = []
        for i in np.argsort(-total).tolist():
            doc_id = self._doc_ids[i]
            if all(doc_id != r[0] for r in ranked):
                ranked.append((doc_id, float(total[i]), float(own[i]), i))
                if len(ranked) > related + 1:
                    break
        if ranked and ranked[0][0] == previous and ranked[0][2] < OWN_SHARE:
            ranked = ranked[1:]
        ranked = [r for r in ranked if r[0] != previous or r is ranked[0]][: related + 1]
        if not ranked:
            return None
        first, top, reach, at = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if reach < OWN_SHARE or top - runner_up < FOLLOW_UP_LEAD:
            return None
        best = self.docs[at]
        others = tuple(r[0] for r in ranked[1:] if r[1] >= top * RELATED_SHARE)
        return Answer(first, best.kind, best.lang, top, others)

    def ask(self, question: str, related: int = 3, prefer: str | None = None) -> Answer | None:
        """The best passage, how sure the index is of it, and the close runners-up; None to decline.

        `prefer`: the user's language, for a question whose words do not tell one ("Microsoft ?").
        A message of several sentences ("Hi, nurse here in Lyon. A colleague said … Is that
        true?") is also asked sentence by sentence, from its questions: the surer reading wins.
        """
        prefer = self.language(question) or prefer  # a sentence alone ("Source?") may not tell it
        best = self._ask(question, related, prefer)
        if best is not None and best.tier == "answer":
            return best
        # A sentence alone is read only when it says enough of its own: "Il a dit quoi au juste,
        # d'après vous ?" after a sentence about the Conseil d'État is not about "après".
        read = {p: self.query(p) for p in _question_sentences(question)}
        sentences = [p for p, q in read.items() if q.known_words >= MIN_SENTENCE_TOPIC]
        asked = [(p, self._ask(p, related, prefer, read[p])) for p in sentences]
        # Read instead of the whole message, a sentence must say a good deal on its own.
        parts = [a for p, a in asked if a is not None and read[p].known_words >= MIN_SENTENCE_ALONE]
        # "Source?" after a question asks for the source of that answer, not a question of its own.
        whole = [a for p, a in asked if a is not None and len(p.split()) >= MIN_QUESTION_WORDS]
        sure = tuple(dict.fromkeys(a.id for a in whole if a.confident))
        every = len(whole) == len(sentences) > 1 and all(a.confident for a in whole)
        if best is not None and best.tier != "unsure":
            # A close call on the whole message, unless each of its questions surely asks for that entry
            # ("who made you? where are you hosted? is your code open?").
            return whole[0] if every and sure == (best.id,) else best
        if every and len(sure) > 1:
            # "Depuis quand Microsoft a nos données ? Et la CNIL a décidé quoi ?": each one answered.
            return dataclasses.replace(whole[0], several=sure[:CANDIDATES], related=())
        if len(parts) == 1:
            return parts[0] if best is None or _rank(parts[0]) > _rank(best) else best
        if len(parts) > 1:
            # Several questions in one message, not all clear: offer each one's best entry, answer none blindly.
            ids = tuple(dict.fromkeys(a.id for a in sorted(parts, key=_rank, reverse=True)))[:CANDIDATES]
            first = max(parts, key=_rank)
            return dataclasses.replace(first, candidates=ids, tier="did_you_mean" if len(ids) > 1 else first.tier)
        return best

    def on_date(self, q: QueryTerms) -> tuple[str, ...]:
        """The events of the one date a question names and asks about alone ("what happened in December
        2023?", "et en 2020 ?"), when there are a few; else ().

        Two events share December 2023: whichever the best way of asking names, the other is missed.
        """
        terms = set(q.terms)
        asked = terms & self._date_terms
        if not any(t.isdigit() for t in asked) or not terms - asked <= self._event_terms | QUESTION_TOKENS:
            return ()
        found = tuple(dict.fromkeys(doc_id for doc_id, date in self._dates if asked <= date))
        return found if len(found) <= CANDIDATES else ()

    def _ask(self, question: str, related: int, prefer: str | None, q: QueryTerms | None = None) -> Answer | None:
        q = q or self.query(question)
        if not self.in_scope(q):
            return None
        events = self.on_date(q)
        if events and frozenset(q.terms) not in self._exact:  # asked as an entry is: that entry
            lang = q.lang or prefer
            return Answer(events[0], "chronology", lang, 1.0, (), events[:1], several=events[1:] and events)
        scores = self.scores(q.terms, q.ids)
        best_index = int(scores.argmax())
        # Asked exactly as one of an entry's ways of asking: that entry, whatever else scores.
        exact = self._exact.get(frozenset(q.terms))
        if exact is not None:
            best_index = self._siblings.get((exact, q.lang or prefer or "fr"), best_index)
        best_score = float(scores[best_index])
        if best_score < self.min_relative * q.ceiling:
            return None
        best = self.docs[best_index]
        wanted = q.lang or prefer
        if wanted is not None and best.lang not in (None, wanted):
            # Same entry, in the language the question was asked in: the words it shares with both
            # versions ("CNIL", "Microsoft") must not make an English question get a French answer.
            sibling = self._siblings.get((best.id, wanted), best_index)
            if q.lang is not None or scores[sibling] >= best_score * SAME_LANGUAGE_SHARE:
                best = self.docs[sibling]
        near = np.flatnonzero(scores >= best_score * min(RELATED_SHARE, CLOSE_SHARE, CANDIDATE_SHARE))
        ranked: list[tuple[str, float]] = []
        for i in near[np.argsort(-scores[near])].tolist():
            doc_id = self._doc_ids[i]
            if doc_id != best.id and all(doc_id != r for r, _ in ranked):
                ranked.append((doc_id, float(scores[i])))
        others = tuple(r for r, s in ranked if s >= best_score * RELATED_SHARE)[:related]
        close = tuple(r for r, s in ranked if s >= best_score * CLOSE_SHARE and self._same_kind(q, best_index, r))
        close = close[: CANDIDATES - 1]
        relative = best_score / q.ceiling if q.ceiling else 0.0
        covered = self.coverage(q)
        share = float(covered[best_index])
        if exact == best.id:
            tier = "answer"  # asked exactly as one of the entry's ways of asking: no doubt left
        elif share < DECLINE_COVERAGE:
            return None  # the best passage misses what the question is about
        elif share < UNSURE_COVERAGE:
            tier = "unsure"
        elif (
            not close
            and share >= CONFIDENT_COVERAGE
            and (relative >= CONFIDENT_RELATIVE or (share >= ALL_COVERED and not ranked))
        ):
            tier = "answer"
        else:
            tier = "did_you_mean"
        if tier != "answer":
            # Unsure: the runners-up that hold as much of the question, best scores first.
            first = {doc_id: i for i, doc_id in reversed(list(enumerate(self._doc_ids)))}
            runners = [r for r, s in ranked if s >= best_score * CANDIDATE_SHARE]
            close = tuple(sorted(runners, key=lambda r: -covered[first[r]])[: CANDIDATES - 1])
        return Answer(best.id, best.kind, best.lang, best_score, others, (best.id, *close), tier, relative, share)


MIN_SENTENCE_TOPIC = 1  # topic words the content knows, for a sentence to be read on its own ("c'est quoi EMC2 ?")
MIN_SENTENCE_ALONE = 4  # ... and to be answered instead of the whole message
MIN_QUESTION_WORDS = 3  # a shorter sentence ("Source ?", "Vraiment ?") leans on the one before it
_INITIAL = re.compile(r"\b[A-Z]\.(?=\s|$)")  # "J. Smith", "Marie D."
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_TIERS = ("unsure", "did_you_mean", "answer")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def last_sentence(text: str) -> str:
    """The last sentence of a message of several, else ""."""
    sentences = _sentences(text)
    return sentences[-1] if len(sentences) > 1 else ""


def _question_sentences(text: str) -> list[str]:
    """The sentences of a longer message worth asking alone: those ending in "?", else the last one."""
    sentences = _sentences(text)
    if len(sentences) < 2:
        return []
    asked = [s for s in sentences if s.endswith("?")]
    return asked or sentences[-1:]


def _rank(answer: Answer) -> tuple[int, float]:
    return _TIERS.index(answer.tier), answer.coverage
