"""The project's own corpus meets its data card: schema, size, label mix, variety, clean splits."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from model.labels import CHANNELS, COST_LABELS, LANGUAGES
from training.corpus import CorpusRecord, corpus_files, read_records
from training.near_duplicates import near_duplicates
from triage.settings import PROJECT_ROOT

CORPUS_DIR = PROJECT_ROOT / "data" / "corpus"
LEGAL_ACTION = re.compile(
    r"суд|юрист|адвокат|роспотребнадзор|прокуратур|омбудсмен|\bЦБ\b|центробанк|жалоб|претензи|"
    r"instan[țţt]|avocat|anpc|protec[țţt]ia consumatorului|ancom|bnr|asf|plângere|plangere|sesizare|reclama[țţt]ie|"
    r"съд|адвокат|кзп|комисията за защита на потребителите|крс|бнб|кфн|омбудсман|сигнал|рекламаци|жалба",
    re.IGNORECASE,
)
LATIN_LETTERS = re.compile(r"[a-zA-Z]")
CYRILLIC_LETTERS = re.compile(r"[а-яА-ЯёЁ]")


@pytest.fixture(scope="module")
def corpus() -> list[CorpusRecord]:
    return read_records(corpus_files(CORPUS_DIR), CorpusRecord)


def by_language(records: list[CorpusRecord], lang: str) -> list[CorpusRecord]:
    return [r for r in records if r.lang == lang]


def share(records: list[CorpusRecord], predicate: object) -> float:
    assert callable(predicate)
    return sum(1 for r in records if predicate(r)) / len(records)


def test_every_file_is_valid_and_ids_are_unique_across_files(corpus: list[CorpusRecord]) -> None:
    ids = Counter(r.id for r in corpus)
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_size_and_splits_per_language(corpus: list[CorpusRecord], lang: str) -> None:
    records = by_language(corpus, lang)
    splits = Counter(r.split for r in records)
    assert len(records) >= 1500
    assert splits["test"] >= 300 and splits["dev"] >= 150 and splits["train"] >= 900


@pytest.mark.parametrize("lang", LANGUAGES)
def test_label_prevalence_per_language(corpus: list[CorpusRecord], lang: str) -> None:
    records = by_language(corpus, lang)
    for cost in COST_LABELS:
        minimum = 0.12 if cost == "social" else 0.20
        assert share(records, lambda r, c=cost: c in r.costs) >= minimum, cost
    abuse = share(records, lambda r: r.abuse_risk == 1)
    hard_negatives = share(
        records, lambda r: r.abuse_risk == 0 and r.is_complaint == 1 and bool(LEGAL_ACTION.search(r.text))
    )
    assert abuse >= 0.08
    assert hard_negatives >= abuse
    assert share(records, lambda r: r.churn == 1) >= 0.12
    assert share(records, lambda r: r.is_complaint == 0) >= 0.10


@pytest.mark.parametrize("lang", LANGUAGES)
def test_variety_of_domains_channels_and_lengths(corpus: list[CorpusRecord], lang: str) -> None:
    records = by_language(corpus, lang)
    assert len({r.domain for r in records}) >= 15
    assert {r.channel for r in records} == set(CHANNELS)
    words = [len(r.text.split()) for r in records]
    assert min(words) <= 4 and max(words) >= 300
    assert sum(n > 120 for n in words) / len(words) >= 0.10


def test_romanian_is_typed_with_and_without_diacritics(corpus: list[CorpusRecord]) -> None:
    romanian = by_language(corpus, "ro")
    without = share(romanian, lambda r: not re.search("[ăâîșțşţĂÂÎȘȚŞŢ]", r.text))
    cedilla = sum(1 for r in romanian if re.search("[şţŞŢ]", r.text))
    assert without >= 0.25
    assert cedilla >= 30


@pytest.mark.parametrize("lang", ["ru", "bg"])
def test_some_cyrillic_languages_are_typed_in_latin_letters(corpus: list[CorpusRecord], lang: str) -> None:
    latin_only = [
        r for r in by_language(corpus, lang) if LATIN_LETTERS.search(r.text) and not CYRILLIC_LETTERS.search(r.text)
    ]
    assert len(latin_only) >= 30


def test_augmented_records_stay_in_train(corpus: list[CorpusRecord]) -> None:
    assert [r.id for r in corpus if r.augmented and r.split != "train"] == []


def test_no_near_duplicates_across_splits(corpus: list[CorpusRecord]) -> None:
    assert near_duplicates(corpus) == []
