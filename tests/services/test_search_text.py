"""The text side of search: normalisation, pinyin splitting, the tokens of items and queries."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.pinyin_syllables import SYLLABLES
from services.search_text import (
    ALIAS,
    BIGRAM,
    NAME,
    SUMMARY,
    NamedPlace,
    ReadingPlan,
    compact,
    document_tokens,
    find_place,
    name_field_weight,
    normalise_query,
    query_plan,
    similarity,
    split_list,
    split_pinyin,
)

# Pure functions, but the suite that runs on SQLite should not skip them.
pytestmark = pytest.mark.both_databases


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("  结婚登记  ", "结婚登记"),
        ("ＪＩＥＨＵＮ", "jiehun"),  # full-width latin, upper case
        ("结婚\u3000\u3000登记", "结婚 登记"),  # ideographic spaces
        ("ＩＣＰ备案１２３", "icp备案123"),
        ("\t\n", ""),
        ("婚" * 60, "婚" * 50),
    ],
)
def test_normalise_query(typed, normalised):
    assert normalise_query(typed) == normalised


def test_compact_keeps_only_chinese_latin_and_digits():
    assert compact("《结婚 登记》（ICP-2024）") == "结婚登记icp2024"


def test_split_list_accepts_chinese_and_latin_separators():
    assert split_list("社保卡, 社会保障卡，医保卡、市民卡;;") == ["社保卡", "社会保障卡", "医保卡", "市民卡"]


@pytest.mark.parametrize(
    ("letters", "syllables"),
    [
        ("jiehun", ["jie", "hun"]),
        ("jiehundengji", ["jie", "hun", "deng", "ji"]),
        ("xian", ["xian"]),  # one syllable rather than xi-an
        ("fangan", ["fan", "gan"]),  # written 方案 would be fang'an
        ("lvse", ["lv", "se"]),
        ("jiehund", ["jie", "hun"]),  # typed half-way: the last piece only begins a syllable
        ("jhdj", []),  # initials are not pinyin
        ("icp", []),
        ("", []),
    ],
)
def test_split_pinyin(letters, syllables):
    assert split_pinyin(letters) == syllables


def test_a_name_is_indexed_by_words_bigrams_characters_pinyin_and_initials():
    # when
    tokens = document_tokens(name="社会保障卡申领")
    # then: a name of up to eight characters weighs 7
    assert tokens["=社会保障卡申领"] == 8 * 7
    assert tokens["社会保障"] == 4 * 7
    assert tokens["会保"] == BIGRAM * 7
    assert tokens["卡"] == 1 * 7
    assert tokens["社保"] == 2 * 7  # 社会保障 shortened
    assert tokens["社保卡"] == 2 * 7
    assert tokens["hui bao"] == 2 * 7
    assert tokens["shehuibaozhangkashenling"] == 3 * 7
    assert tokens["shbzksl"] == 3 * 7
    assert tokens["shbz"] == 3 * 7  # initials of a word


@pytest.mark.parametrize(
    ("name", "weight"),
    [
        ("护照签发", 7),
        ("普通护照签发", 7),
        ("对伪造护照的行政处罚", 6),
        ("对伪造、变造、买卖护照的行政处罚", 5),
        ("护" * 21, 4),
    ],
)
def test_a_short_name_weighs_more_than_a_long_one_and_any_name_more_than_an_alias(name, weight):
    assert name_field_weight(name) == weight
    assert weight > ALIAS


def test_a_token_keeps_the_weight_of_its_best_field():
    # when
    tokens = document_tokens(name="婚姻登记", aliases="结婚登记", summary="办理结婚手续")
    # then
    assert tokens["登记"] == BIGRAM * 7
    assert tokens["结婚"] == BIGRAM * ALIAS
    assert tokens["手续"] == BIGRAM * SUMMARY
    assert "续" not in tokens  # summaries give words only


def test_codes_are_indexed_in_lower_case():
    tokens = document_tokens(name="结婚登记", codes=["11330000MB0000001X2000000000001"])
    assert tokens["11330000mb0000001x2000000000001"] == 3 * NAME


def test_a_query_as_typed_looks_up_bigrams_and_words():
    # when
    plan = query_plan(["结婚登记"])
    # then: three of the four tokens must match; the exact name counts as a bonus
    assert plan.readings == (ReadingPlan(tokens=("=结婚登记", "婚登", "登记", "结婚", "结婚登记"), min_matches=2),)


def test_a_fuzzy_query_adds_characters_characters_two_apart_and_pinyin():
    # when
    plan = query_plan(["结昏登记"], is_fuzzy=True)
    # then
    assert plan.readings == (
        ReadingPlan(
            tokens=(
                "=结昏登记",
                "deng ji",
                "hun deng",
                "jie hun",
                "jiehundengji",
                "昏",
                "昏登",
                "昏记",
                "登",
                "登记",
                "结",
                "结昏",
                "结登",
                "记",
            ),
            min_matches=6,
        ),
    )


def test_one_character_is_its_own_token():
    assert query_plan(["婚"]).readings == (ReadingPlan(tokens=("婚",), min_matches=1),)


@pytest.mark.parametrize(
    ("typed", "tokens"),
    [
        ("jiehun", ("=jiehun", "jie hun", "jiehun")),
        ("jie hun", ("=jiehun", "jie hun", "jiehun")),
        ("fang'an", ("=fangan", "fang an", "fangan")),
        ("jhdj", ("=jhdj", "jhdj")),
        ("icp beian", ("=icpbeian", "bei an", "beian", "icp")),
    ],
)
def test_latin_queries_look_up_the_letters_and_their_pinyin_pairs(typed, tokens):
    assert query_plan([normalise_query(typed)]).readings[0].tokens == tokens


def test_each_synonym_reading_has_its_own_threshold():
    # when
    plan = query_plan(["开公司", "公司设立登记"])
    # then
    assert plan.readings == (
        ReadingPlan(tokens=("=开公司", "公司", "开公"), min_matches=1),
        ReadingPlan(tokens=("=公司设立登记", "公司", "司设", "登记", "立登", "设立", "设立登记"), min_matches=3),
    )


def test_a_query_without_letters_digits_or_chinese_has_no_tokens():
    assert query_plan(["！？。"]).tokens == frozenset()


@pytest.mark.parametrize(
    ("typed", "candidate", "expected"),
    [
        ("结婚登记", "结婚登记", 1.0),
        ("结昏登记", "结婚登记", 1.0),  # the same pinyin
        ("结姻登录", "结婚登记", 0.5),
        ("jiehundengji", "结婚登记", 1.0),
        ("jhdj", "结婚登记", 1.0),
        ("量子力学", "结婚登记", 0.0),
    ],
)
def test_similarity(typed, candidate, expected):
    assert similarity(typed, candidate) == pytest.approx(expected)


def test_the_written_out_syllables_are_the_toneless_readings_of_pypinyin():
    # given: what services.pinyin_syllables says it holds, derived from pypinyin's own dictionary
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    derived = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            syllable = to_normal(reading).replace("ü", "v")
            # Interjections written without a vowel (m, ng, hm) would let initials pass for pinyin.
            if syllable.isascii() and syllable.isalpha() and any(vowel in syllable for vowel in "aeiouv"):
                derived.add(syllable)
    # then
    assert frozenset(derived) == SYLLABLES
    assert len(SYLLABLES) == 420


def test_a_web_process_loads_no_segmentation_dictionary_until_a_search_needs_one():
    # given: a fresh process with the site's URLs (every view, services.search among them) imported
    script = (
        "import sys, django; django.setup(); import portal.urls; "
        "from services.search_text import query_plan; "
        "print(sorted(name for name in ('rjieba', 'pypinyin') if name in sys.modules)); "
        "query_plan(['社保']); query_plan(['jiehun dengji']); "
        "print(sorted(name for name in ('rjieba', 'pypinyin') if name in sys.modules)); "
        "query_plan(['结婚登记']); "
        "print(sorted(name for name in ('rjieba', 'pypinyin') if name in sys.modules))"
    )
    # when
    completed = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    # then: two characters and pinyin need neither; a longer Chinese query needs rjieba only
    assert completed.stdout.splitlines() == ["[]", "[]", "['rjieba']"]


PLACES = [("西湖区", "330106000000"), ("杭州市", "330100000000"), ("西湖", "330106000000"), ("杭州", "330100000000")]


@pytest.mark.parametrize(
    ("query", "code", "name", "rest"),
    [
        ("结婚 西湖", "330106000000", "西湖", "结婚"),
        ("杭州市西湖区结婚登记", "330106000000", "西湖区", "结婚登记"),
        ("杭州 结婚 西湖", "330106000000", "西湖", "结婚"),
        ("ＪＩＥＨＵＮ 杭州", "330100000000", "杭州", "jiehun"),
    ],
)
def test_a_query_names_the_most_local_place_it_names(query, code, name, rest):
    assert find_place(query, PLACES) == NamedPlace(code=code, name=name, rest=rest)


@pytest.mark.parametrize("query", ["结婚登记", "西湖区", " 杭州 ", "西湖 ，"])
def test_a_query_without_a_place_or_with_nothing_else_names_none(query):
    assert find_place(query, PLACES) is None
