"""The text side of catalogue search: normalisation, Chinese segmentation, bigrams, pinyin.

Pure functions, no database. ``services.search`` stores what ``document_tokens``
gives for every published item and looks up what ``query_plan`` gives.

Every token is a plain string in one namespace. Kinds of one shape share their
tokens on purpose (社保 the abbreviation matches 社保 typed as a bigram):

==========================  ==================  ===================================
kind                        example             what it is for
==========================  ==================  ===================================
exact text                  ``=结婚登记``       the whole name or alias typed
word (rjieba, 3+ chars)     ``结婚登记``        what a reader sees as a word
character bigram            ``婚登``            matching whatever the segmentation
abbreviation                ``社保``            社会保障 → 社保, 社保卡
characters two apart        ``结登``            a wrong character between them
single character            ``婚``              one-character queries, wrong ones
toneless pinyin pair        ``jie hun``         homophone slips (结昏 → 结婚)
full pinyin                 ``jiehundengji``    pinyin typed without tones
initials                    ``jhdj``            first letters typed
latin word or number        ``icp``, ``2024``   as written, lower-case
==========================  ==================  ===================================

Names and aliases get every kind; summaries only their words (two characters or
more), which keeps the index at about 65 rows per item. The weight of a stored
token is the weight of its kind times that of the field it came from (name >
alias > summary, a short name more than a long one); an item's score is the sum
over the query tokens it has.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from services.pinyin_syllables import SYLLABLES

MAX_QUERY_LENGTH = 50
MAX_TOKEN_LENGTH = 64
# An item must have at least this share of a query's tokens to count as a match:
# enough to leave out items that share one common word with the query, few
# enough that one wrong character still finds the intended item.
MATCH_SHARE = 0.5
FUZZY_MATCH_SHARE = 0.4
# A query and its synonym readings, each looked up separately.
MAX_READINGS = 6

# Weights of the kinds of token.
EXACT = 8
LONG_WORD = 4
BIGRAM = 3  # also a two-character word: the same string
ABBREVIATION = 2
SKIP_BIGRAM = 1
CHARACTER = 1
PINYIN_PAIR = 2
PINYIN = 3  # full pinyin, initials, latin words and numbers

# Weights of the fields a token comes from. A short name weighs more than a long one
# that also has the words: 护照 should show 普通护照签发 before 对伪造护照的行政处罚.
NAME = 5
ALIAS = 3
SUMMARY = 1
NAME_BY_LENGTH = ((8, 7), (12, 6), (20, NAME))  # (at most so many characters, weight); longer: ALIAS + 1

EXACT_PREFIX = "="

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<latin>[a-z0-9](?:[a-z0-9']*[a-z0-9])?)")
_LETTERS = re.compile(r"[a-z]+")
_ONE_HAN = re.compile(f"[{_HAN}]")


_LONGEST_SYLLABLE = max(len(syllable) for syllable in SYLLABLES)
_SYLLABLE_PREFIXES = frozenset(syllable[:end] for syllable in SYLLABLES for end in range(1, len(syllable)))


def normalise_text(text: str) -> str:
    """Full-width to half-width, latin to lower case, runs of whitespace to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def normalise_query(text: str) -> str:
    """What a query is searched as: normalised text of at most ``MAX_QUERY_LENGTH`` characters."""
    return normalise_text(text)[:MAX_QUERY_LENGTH].strip()


def split_list(text: str) -> list[str]:
    """The entries of a comma-separated field (either comma, or 、 or ;)."""
    return [entry.strip() for entry in re.split(r"[,，、;；]", text) if entry.strip()]


def _runs(text: str) -> list[tuple[str, str]]:
    """(kind, run) pairs of normalised text: kind "han" or "latin"; the rest separates runs."""
    return [(match.lastgroup or "", match.group()) for match in _RUNS.finditer(text)]


def compact(text: str) -> str:
    """Normalised text with only its Chinese, latin and digit runs: how exact matches compare."""
    return "".join(run.replace("'", "") for _, run in _runs(normalise_text(text)))


# rjieba's dictionary (about 30 MB) and pypinyin's (about 55 MB) are loaded by the first
# text that needs them, not when a web worker starts: pages never do, most searches need
# only rjieba (words of three characters or more), and pinyin of Chinese text is only
# wanted for indexing, fuzzy searches and "did you mean".


def _words(run: str) -> list[str]:
    """rjieba's words of a run of Chinese characters, fine-grained (cut for search)."""
    import rjieba

    return list(rjieba.cut_for_search(run))


def _coarse_words(run: str) -> list[str]:
    """rjieba's words of a run of Chinese characters, the longest it finds."""
    import rjieba

    return list(rjieba.cut(run))


@lru_cache(maxsize=65536)
def syllables_of(han: str) -> tuple[str, ...]:
    """Toneless pinyin of a run of Chinese characters, one syllable per character."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(han, style=Style.NORMAL, v_to_u=False))


def _is_syllable(text: str) -> bool:
    return text in SYLLABLES


def split_pinyin(letters: str) -> list[str]:
    """Split latin letters into toneless pinyin syllables ("jiehun" → ["jie", "hun"]).

    Takes the split with the fewest syllables and, among those, the fewest that
    start with a vowel (the written rule: 方案 is "fang'an", so "fangan" reads
    fan-gan). A last piece that only begins a syllable ("jiehund") is dropped, so
    a query typed half-way still matches. Returns [] when the letters are not pinyin.
    """
    length = len(letters)
    # best[i]: (syllable count, vowel-initial count, split) of letters[:i].
    best: list[tuple[int, int, list[str]] | None] = [None] * (length + 1)
    best[0] = (0, 0, [])
    for end in range(1, length + 1):
        for start in range(max(0, end - _LONGEST_SYLLABLE), end):
            previous = best[start]
            piece = letters[start:end]
            if previous is None or not _is_syllable(piece):
                continue
            vowel_initial = previous[1] + (1 if start > 0 and piece[0] in "aeiou" else 0)
            candidate = (previous[0] + 1, vowel_initial, [*previous[2], piece])
            current = best[end]
            if current is None or candidate[:2] < current[:2]:
                best[end] = candidate
    complete = best[length]
    if complete is not None:
        return complete[2]
    for start in range(length - 1, max(0, length - _LONGEST_SYLLABLE), -1):
        head = best[start]
        if head is not None and head[2] and letters[start:] in _SYLLABLE_PREFIXES:
            return head[2]
    return []


def _pairs(syllables: Iterable[str]) -> list[str]:
    items = [syllable for syllable in syllables if syllable.isascii() and syllable.isalpha()]
    return [f"{first} {second}" for first, second in itertools.pairwise(items)]


def _skip_bigrams(run: str) -> list[str]:
    """Characters two apart: what is left of a bigram when the character between them is wrong."""
    return [run[index] + run[index + 2] for index in range(len(run) - 2)]


def _full_pinyin(han: str) -> str:
    return "".join(syllables_of(han))


def _initials(han: str) -> str:
    return "".join(syllable[0] for syllable in syllables_of(han) if syllable)


def _add(tokens: dict[str, int], token: str, weight: int) -> None:
    if token and len(token) <= MAX_TOKEN_LENGTH and weight > tokens.get(token, 0):
        tokens[token] = weight


@lru_cache(maxsize=32768)
def _title_tokens(text: str) -> tuple[tuple[str, int], ...]:
    """Kind-weighted tokens of a name or an alias (normalised)."""
    tokens: dict[str, int] = {}
    _add(tokens, EXACT_PREFIX + compact(text)[:MAX_QUERY_LENGTH], EXACT)
    full_pinyin: list[str] = []
    initials: list[str] = []
    for kind, run in _runs(text):
        if kind == "latin":
            word = run.replace("'", "")
            _add(tokens, word, PINYIN)
            full_pinyin.append(word)
            initials.append(word)
            continue
        for character in run:
            _add(tokens, character, CHARACTER)
        for skip_bigram in _skip_bigrams(run):
            _add(tokens, skip_bigram, SKIP_BIGRAM)
        coarse = _coarse_words(run)
        for index, word in enumerate(coarse):
            if len(word) >= 2:
                _add(tokens, _initials(word), PINYIN)
            if len(word) == 4:
                abbreviation = word[0] + word[2]
                _add(tokens, abbreviation, ABBREVIATION)
                if index + 1 < len(coarse) and len(coarse[index + 1]) == 1:
                    _add(tokens, abbreviation + coarse[index + 1], ABBREVIATION)
        for first, second in itertools.pairwise(run):
            _add(tokens, first + second, BIGRAM)
        for word in _words(run):
            if len(word) >= 3:
                _add(tokens, word, LONG_WORD)
        for pair in _pairs(syllables_of(run)):
            _add(tokens, pair, PINYIN_PAIR)
        full_pinyin.append(_full_pinyin(run))
        initials.append(_initials(run))
    _add(tokens, "".join(full_pinyin), PINYIN)
    _add(tokens, "".join(initials), PINYIN)
    return tuple(tokens.items())


@lru_cache(maxsize=8192)
def _summary_tokens(text: str) -> tuple[tuple[str, int], ...]:
    """Kind-weighted tokens of a summary: only its words, which keeps the index small."""
    tokens: dict[str, int] = {}
    for kind, run in _runs(text):
        if kind == "latin":
            _add(tokens, run.replace("'", ""), PINYIN)
            continue
        for word in _words(run):
            if len(word) >= 2:
                _add(tokens, word, LONG_WORD if len(word) >= 3 else BIGRAM)
    return tuple(tokens.items())


def name_field_weight(name: str) -> int:
    """The weight of a name's tokens: more for a short name, always more than an alias."""
    length = len(compact(name))
    return next((weight for most, weight in NAME_BY_LENGTH if length <= most), ALIAS + 1)


def document_tokens(*, name: str, aliases: str = "", summary: str = "", codes: Iterable[str] = ()) -> dict[str, int]:
    """Every token of one item with its weight: kind weight times the weight of its best field."""
    tokens: dict[str, int] = {}
    name_weight = name_field_weight(name)
    for token, weight in _title_tokens(normalise_text(name)):
        _add(tokens, token, weight * name_weight)
    for code in codes:
        _add(tokens, normalise_text(code), PINYIN * NAME)
    for alias in split_list(aliases):
        for token, weight in _title_tokens(normalise_text(alias)):
            _add(tokens, token, weight * ALIAS)
    for token, weight in _summary_tokens(normalise_text(summary)):
        _add(tokens, token, weight * SUMMARY)
    return tokens


def _query_tokens_of(text: str, *, is_fuzzy: bool) -> set[str]:
    """The tokens one reading of the query looks up (``text`` normalised), exact token included.

    As typed: the bigrams and longer words of Chinese text (a lone character
    itself), latin words and their pinyin syllable pairs. Fuzzy adds what
    survives a wrong character: single characters, characters two apart, and
    toneless pinyin, which homophones share.
    """
    tokens: set[str] = set()
    exact = compact(text)
    if not exact:
        return tokens
    if not _ONE_HAN.fullmatch(exact):  # one character: no item has it for a name, and it is its own token
        tokens.add(EXACT_PREFIX + exact)
    syllables: list[str] = []  # of the latin runs that follow one another
    latin_words: list[str] = []

    def close_latin() -> None:
        # Pinyin typed in pieces ("jie hun", "fang'an") is looked up as one word.
        if latin_words:
            tokens.add("".join(latin_words))
        tokens.update(_pairs(syllables))
        syllables.clear()
        latin_words.clear()

    for kind, run in _runs(text):
        if kind == "latin":
            for part in run.split("'"):
                split = split_pinyin(part) if _LETTERS.fullmatch(part) else []
                if split:
                    latin_words.append(part)
                    syllables.extend(split)
                else:
                    close_latin()
                    tokens.add(part)
            continue
        close_latin()
        if len(run) == 1:
            tokens.add(run)
            continue
        tokens.update(first + second for first, second in itertools.pairwise(run))
        if len(run) >= 3:  # a shorter run has no such word: no need to load rjieba
            tokens.update(word for word in _words(run) if len(word) >= 3)
        if is_fuzzy:
            tokens.update(run)
            tokens.update(_skip_bigrams(run))
            tokens.update(_pairs(syllables_of(run)))
            tokens.add(_full_pinyin(run))
    close_latin()
    return {token for token in tokens if token and len(token) <= MAX_TOKEN_LENGTH}


@dataclass(frozen=True)
class ReadingPlan:
    """What to look up for one reading of a query: its tokens, and how many of them an item must have."""

    tokens: tuple[str, ...]
    min_matches: int


@dataclass(frozen=True)
class QueryPlan:
    """The readings of a query (as typed, and with synonyms); an item matches if it matches one of them."""

    readings: tuple[ReadingPlan, ...]

    @property
    def tokens(self) -> frozenset[str]:
        return frozenset(token for reading in self.readings for token in reading.tokens)


def query_plan(readings: Iterable[str], *, is_fuzzy: bool = False) -> QueryPlan:
    """The tokens of each reading of a query (normalised) and the share of them an item needs.

    Readings that give the same tokens are looked up once; at most ``MAX_READINGS``.
    """
    share = FUZZY_MATCH_SHARE if is_fuzzy else MATCH_SHARE
    plans: list[ReadingPlan] = []
    for reading in readings:
        tokens = _query_tokens_of(reading, is_fuzzy=is_fuzzy)
        countable = [token for token in tokens if not token.startswith(EXACT_PREFIX)]
        plan = ReadingPlan(tokens=tuple(sorted(tokens)), min_matches=max(1, math.ceil(len(countable) * share)))
        if countable and plan not in plans:
            plans.append(plan)
    return QueryPlan(readings=tuple(plans[:MAX_READINGS]))


@dataclass(frozen=True)
class NamedPlace:
    """A place a query names (结婚 西湖 → 西湖), its region code, and the query without it."""

    code: str
    name: str
    rest: str


def find_place(query: str, places: Iterable[tuple[str, str]]) -> NamedPlace | None:
    """The place a query names, from ``places`` ((name, region code), longest name first), or None.

    Every place named is taken out of the query (杭州市西湖区结婚 → 结婚); the
    most local of them is the place (the code with the fewest trailing zeros).
    A query that is nothing but places, or places and nothing searchable, names
    none: it is searched as typed.
    """
    rest = normalise_query(query)
    named: list[tuple[str, str]] = []
    for name, code in places:
        if name and name in rest:
            rest = normalise_query(rest.replace(name, " "))
            named.append((name, code))
    if not named or not rest or not query_plan([rest]).tokens:
        return None
    name, code = max(named, key=lambda place: len(place[1].rstrip("0")))
    return NamedPlace(code=code, name=name, rest=rest)


def similarity(query: str, candidate: str) -> float:
    """How close a candidate (an item name, an alias, a synonym) is to a query, from 0 to 1.

    The best of: characters compared, toneless pinyin syllables compared, and for
    a latin query its letters against the candidate's full pinyin and initials.
    """
    query_text = compact(query)
    candidate_text = compact(candidate)
    if not query_text or not candidate_text:
        return 0.0
    scores = [SequenceMatcher(None, query_text, candidate_text).ratio()]
    candidate_syllables = _text_syllables(candidate_text)
    if re.search(f"[{_HAN}]", query_text):
        scores.append(SequenceMatcher(None, _text_syllables(query_text), candidate_syllables).ratio())
    else:
        scores.append(SequenceMatcher(None, query_text, "".join(candidate_syllables)).ratio())
        initials = "".join(syllable[0] for syllable in candidate_syllables)
        scores.append(SequenceMatcher(None, query_text, initials).ratio())
    return max(scores)


def _text_syllables(text: str) -> list[str]:
    syllables: list[str] = []
    for kind, run in _runs(text):
        syllables.extend(syllables_of(run) if kind == "han" else [run])
    return syllables
