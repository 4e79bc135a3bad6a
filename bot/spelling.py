"""Typo correction: a word that is in no French or English dictionary is corrected to a content word.

The dictionary is wordfreq's bundled word lists (the "small" lists: words used at
least once per million, about 30 000 per language, read offline from the
package). A word found there is never corrected, so "light" stays "light" and
never becomes "right", and "oublié" stays a word rather than the /oublier
command. A word found in neither the dictionary nor the content ("hebrege",
"microsft", "souverainte") is a typo: symspellpy finds the closest content words
(one edit away, two for long words), and the most frequent one in the content
wins. Command names are never targets: a typo must not turn into an action.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable

import wordfreq
from symspellpy import SymSpell, Verbosity

from bot.sanitize import fold

DICTIONARY_LANGUAGES = ("fr", "en")
MIN_TYPO_LENGTH = 5  # "cnl" is not "cnil": short words have too many neighbours
LONG_WORD = 7  # from this length, two edits are still one word ("souverainte", "extraterritorial")


@functools.cache
def dictionary() -> dict[str, float]:
    """Folded words of the French and English dictionaries -> Zipf frequency, the higher of both (~20 ms, once).

    Zipf is log10 of the uses per billion words: about 7 for "the" or "de", 5 for "price",
    3 for "horoscope". It tells how much an everyday word says about a question.
    """
    zipf: dict[str, float] = {}
    for lang in DICTIONARY_LANGUAGES:
        for word, frequency in wordfreq.get_frequency_dict(lang, "small").items():
            if word.isalpha() and frequency > 0:
                key = fold(word)
                zipf[key] = max(zipf.get(key, 0.0), math.log10(frequency) + 9)
    return zipf


@functools.cache
def _zipf_in(lang: str) -> dict[str, float]:
    return {
        fold(word): math.log10(frequency) + 9
        for word, frequency in wordfreq.get_frequency_dict(lang, "small").items()
        if word.isalpha() and frequency > 0
    }


def languages_of(word: str) -> tuple[str, ...]:
    """The dictionary languages a folded word belongs to ("stocker": fr; "store": en; "document": both).

    A word much more common in one language than the other is that language's; a word in
    neither dictionary may be either.
    """
    zipf = {lang: _zipf_in(lang).get(word, 0.0) for lang in DICTIONARY_LANGUAGES}
    best = max(zipf.values())
    if best == 0.0:
        return DICTIONARY_LANGUAGES
    return tuple(lang for lang in DICTIONARY_LANGUAGES if zipf[lang] >= best - 1.5)


def dictionary_words() -> frozenset[str]:
    """Folded words of the French and English dictionaries."""
    return frozenset(dictionary())


class Speller:
    """Corrects typos towards the words of the content, never a real word, never towards a command."""

    def __init__(self, content_words: Counter[str], commands: Iterable[str] = ()) -> None:
        self.dictionary = dictionary()
        self.known = frozenset(content_words)
        excluded = {fold(c) for c in commands}
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in content_words.items():
            if len(word) >= MIN_TYPO_LENGTH - 1 and word.isalpha() and word not in excluded:
                self._symspell.create_dictionary_entry(word, count)
        self._cache: dict[str, str] = {}

    def zipf(self, word: str) -> float:
        """How common `word` is in everyday French or English (0 when in neither dictionary)."""
        return self.dictionary.get(word, 0.0)

    def is_word(self, word: str) -> bool:
        """A real word, of the content or of either dictionary."""
        return word in self.known or word in self.dictionary

    def correct(self, word: str) -> str:
        """`word`, or the content word it is most likely a typo of."""
        fixed = self._cache.get(word)
        if fixed is None:
            fixed = word
            if len(word) >= MIN_TYPO_LENGTH and word.isalpha() and not self.is_word(word):
                distance = 2 if len(word) >= LONG_WORD else 1
                found = self._symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=distance)
                if found:
                    fixed = found[0].term
            if len(self._cache) < 20_000:
                self._cache[word] = fixed
        return fixed
