"""The remedy engine and its playbook: plans for every tag combination, budget, languages, validation, CLI check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from model.calibration import Confidence, confidence_level
from model.labels import OTHER_LANGUAGE
from model.predictor import LabelPrediction, Prediction
from remedies.budget import compensation_budget
from remedies.engine import Plan, plan_remedies
from remedies.playbook import CONFIDENCE_LEVELS, SHIPPED_PLAYBOOK, Playbook, PlaybookError, load_playbook
from remedies.severity import severity_of
from triage.cli import app
from triage.settings import Settings, get_settings

BASE_PROBS = {
    "economic": 0.05,
    "time": 0.05,
    "social": 0.05,
    "emotional": 0.05,
    "abuse_risk": 0.05,
    "churn": 0.05,
    "is_complaint": 0.95,
}
"""A confident complaint with no cost, abuse risk or churn; cases override single labels."""


def predict(lang: str = "ru", **probs: float) -> Prediction:
    """A prediction as the model makes it: decided at 0.5, confidence from the probability, all low for `other`."""
    labels = {}
    for name, prob in {**BASE_PROBS, **probs}.items():
        decision = prob >= 0.5
        level: Confidence = "low" if lang == OTHER_LANGUAGE else confidence_level(prob, decision)
        labels[name] = LabelPrediction(prob, decision, level)
    return Prediction(lang, 0.99, labels)


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook()


# --- plans for every combination of tags -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    probs: dict[str, float]
    mode: str
    severity: str
    present: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)
    lang: str = "ru"
    lifetime_value: float | None = None


CASES = [
    Case(
        "economic alone",
        {"economic": 0.92},
        "standard",
        "medium",
        {
            "replace_not_discount",
            "refund",
            "partial_refund",
            "cover_extra_costs",
            "three_solutions",
            "guarantee_clause",
        },
        {"fix_fast", "apology_letterhead", "escalate_to_manager", "gift_or_bonus", "human_review"},
    ),
    Case(
        "time alone",
        {"time": 0.9},
        "standard",
        "low",
        {"fix_fast", "partial_refund", "redo_free_or_discounted"},
        {"refund", "replace_not_discount", "guarantee_clause", "escalate_to_manager"},
    ),
    Case(
        "social alone",
        {"social": 0.9},
        "standard",
        "medium",
        {"apology_letterhead", "redo_free_or_discounted", "guarantee_clause"},
        {"refund", "fix_fast", "escalate_to_manager", "gift_or_bonus"},
    ),
    Case(
        "emotional alone",
        {"emotional": 0.9},
        "standard",
        "low",
        {"gift_or_bonus", "change_employee", "apology_by_manager"},
        {"refund", "redo_free_or_discounted", "guarantee_clause", "apology_letterhead"},
    ),
    Case(
        "complaint without costs",
        {},
        "standard",
        "none",
        {"apology_by_manager", "three_solutions", "find_root_cause"},
        {"refund", "guarantee_clause", "redo_free_or_discounted", "thank_you"},
    ),
    Case(
        "time and emotional: a guarantee, no escalation",
        {"time": 0.9, "emotional": 0.9},
        "standard",
        "medium",
        {"fix_fast", "gift_or_bonus", "guarantee_clause"},
        {"escalate_to_manager", "upgrade_same_price"},
    ),
    Case(
        "economic and time: escalation",
        {"economic": 0.9, "time": 0.9},
        "standard",
        "high",
        {"escalate_to_manager", "fix_fast", "refund", "partial_refund", "guarantee_clause"},
        {"free_service_period", "upgrade_same_price", "apology_letterhead"},
    ),
    Case(
        "economic and social: escalation and a letter",
        {"economic": 0.9, "social": 0.9},
        "standard",
        "high",
        {"escalate_to_manager", "apology_letterhead", "refund", "replace_not_discount"},
        {"fix_fast", "gift_or_bonus"},
    ),
    Case(
        "all four costs",
        {"economic": 0.9, "time": 0.9, "social": 0.9, "emotional": 0.9},
        "standard",
        "high",
        {"escalate_to_manager", "fix_fast", "apology_letterhead", "gift_or_bonus", "refund", "cover_extra_costs"},
        {"last_chance_trial", "claim_form"},
    ),
    Case(
        "economic at medium confidence: no cost cover",
        {"economic": 0.75},
        "standard",
        "medium",
        {"refund", "replace_not_discount"},
        {"cover_extra_costs"},
    ),
    Case(
        "a delay for a valuable customer: upgrade",
        {"time": 0.9, "emotional": 0.9},
        "standard",
        "medium",
        {"upgrade_same_price"},
        {"free_service_period"},
        lifetime_value=60000,
    ),
    Case(
        "a severe delay for a valuable customer: upgrade and free service",
        {"economic": 0.9, "time": 0.9},
        "standard",
        "high",
        {"free_service_period", "upgrade_same_price"},
        lifetime_value=50000,
    ),
    Case(
        "a severe failure below the upgrade value",
        {"economic": 0.9, "time": 0.9},
        "standard",
        "high",
        {"free_service_period"},
        {"upgrade_same_price"},
        lifetime_value=30000,
    ),
    Case(
        "abuse risk: the formal process",
        {"economic": 0.9, "emotional": 0.9, "abuse_risk": 0.9},
        "abuse",
        "high",
        {"acknowledge_claim", "claim_form", "costs_statement", "lawyer_review_10_days", "no_automatic_cash"},
        {"apology_by_manager", "refund", "freeze_or_transfer_contract", "escalate_to_manager", "three_solutions"},
    ),
    Case(
        "abuse risk without a complaint",
        {"is_complaint": 0.1, "abuse_risk": 0.9},
        "abuse",
        "none",
        {"claim_form", "lawyer_review_10_days"},
        {"thank_you"},
    ),
    Case(
        "churn: win back",
        {"economic": 0.9, "churn": 0.85},
        "win_back",
        "medium",
        {"last_chance_trial", "stay_in_touch", "freeze_or_transfer_contract", "comeback_offer", "refund"},
        {"claim_form", "human_review"},
    ),
    Case(
        "churn without costs",
        {"churn": 0.9},
        "win_back",
        "none",
        {"last_chance_trial", "stay_in_touch", "freeze_or_transfer_contract", "apology_by_manager"},
        {"refund", "fix_fast"},
    ),
    Case(
        "abuse and churn: formal process plus a freeze",
        {"economic": 0.9, "abuse_risk": 0.9, "churn": 0.9},
        "abuse",
        "medium",
        {"claim_form", "lawyer_review_10_days", "freeze_or_transfer_contract"},
        {"last_chance_trial", "stay_in_touch", "comeback_offer", "refund"},
    ),
    Case(
        "a low-confidence cost",
        {"economic": 0.6},
        "human_review",
        "medium",
        {"human_review", "clarify_details", "apology_by_manager"},
        {"refund", "replace_not_discount", "three_solutions", "escalate_to_manager"},
    ),
    Case(
        "unsure whether it is a complaint",
        {"is_complaint": 0.55},
        "human_review",
        "none",
        {"human_review", "clarify_details"},
        {"thank_you", "three_solutions"},
    ),
    Case(
        "unsure that there is no abuse: escalate, promise nothing",
        {"economic": 0.9, "time": 0.9, "abuse_risk": 0.4},
        "human_review",
        "high",
        {"human_review", "escalate_to_manager", "apology_by_manager"},
        {"refund", "fix_fast", "claim_form"},
    ),
    Case(
        "severe but one cost unsure: no escalation",
        {"economic": 0.9, "time": 0.9, "social": 0.6},
        "human_review",
        "high",
        {"human_review"},
        {"escalate_to_manager", "apology_letterhead"},
    ),
    Case(
        "low confidence with abuse risk",
        {"economic": 0.6, "abuse_risk": 0.9},
        "human_review",
        "medium",
        {"human_review", "claim_form"},
        {"apology_by_manager", "acknowledge_claim"},
    ),
    Case(
        "language other",
        {"economic": 0.9},
        "human_review",
        "medium",
        {"human_review", "clarify_details"},
        {"refund", "replace_not_discount"},
        lang=OTHER_LANGUAGE,
    ),
    Case("not a complaint", {"is_complaint": 0.05}, "no_action", "none", {"thank_you"}),
    Case("praise with emotion", {"is_complaint": 0.05, "emotional": 0.9}, "no_action", "low", {"thank_you"}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_plan_for_each_combination(case: Case, playbook: Playbook) -> None:
    prediction = predict(case.lang, **case.probs)
    plan = plan_remedies(prediction, playbook, lifetime_value=case.lifetime_value)
    ids = [suggestion.id for suggestion in plan.suggestions]
    assert (plan.mode, plan.severity) == (case.mode, case.severity)
    assert case.present <= set(ids), f"missing {case.present - set(ids)}"
    assert not case.absent & set(ids), f"unexpected {case.absent & set(ids)}"
    priorities = [suggestion.priority for suggestion in plan.suggestions]
    assert priorities == sorted(priorities, reverse=True)
    if plan.mode in ("abuse", "human_review", "no_action"):
        assert not [suggestion.id for suggestion in plan.suggestions if suggestion.money]
    if plan.mode == "human_review":
        assert ids[0] == "human_review"
    if plan.mode == "no_action":
        assert ids == ["thank_you"]
    labels = prediction.labels
    if labels["is_complaint"].decision and not labels["abuse_risk"].decision:
        assert len(ids) >= 3
    for suggestion in plan.suggestions:
        assert "is_complaint" in suggestion.why.tags
        assert all(labels[name].prob == prob for name, prob in suggestion.why.tags.items())
        assert suggestion.why.conditions[0] == f"mode is {plan.mode}"


def test_why_names_the_tags_and_conditions(playbook: Playbook) -> None:
    plan = plan_remedies(predict(economic=0.92, churn=0.85), playbook)
    why = {suggestion.id: suggestion.why for suggestion in plan.suggestions}
    assert why["refund"].tags == {"is_complaint": 0.95, "economic": 0.92}
    assert why["refund"].conditions == (
        "mode is win_back",
        "any of costs (economic) decided: economic",
        "confidence of is_complaint, economic ≥ medium",
    )
    assert why["freeze_or_transfer_contract"].tags == {"is_complaint": 0.95, "churn": 0.85}
    assert "churn decided" in why["freeze_or_transfer_contract"].conditions
    assert why["guarantee_clause"].conditions[-1] == "severity medium ≥ medium"
    assert plan.mode_reason == "churn decided (0.85)"


def test_abuse_plan_is_polite_and_promises_no_money(playbook: Playbook) -> None:
    plan = plan_remedies(predict(economic=0.9, abuse_risk=0.95), playbook, customer_lang="en")
    assert plan.suggestions[0].id == "acknowledge_claim"
    assert plan.suggestions[0].wording.startswith("Thank you")
    text = " ".join(suggestion.wording for suggestion in plan.suggestions).lower()
    for accusation in ("abuse", "fraud", "extort", "bad faith", "lie"):
        assert accusation not in text
    assert "10 days" in text


def test_plan_serializes_to_json(playbook: Playbook) -> None:
    plan = plan_remedies(predict("bg", time=0.9), playbook, lifetime_value=1000, margin=0.5)
    payload = json.loads(json.dumps(plan.to_json(), ensure_ascii=False))
    assert payload["mode"] == "standard"
    assert payload["budget"]["arithmetic"] == "1000 × 0.50 × 0.05 = 25"
    assert payload["suggestions"][0]["why"]["tags"]["is_complaint"] == 0.95


# --- severity and budget ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("costs", "severity"),
    [
        ((), "none"),
        (("time",), "low"),
        (("emotional",), "low"),
        (("economic",), "medium"),
        (("social",), "medium"),
        (("time", "emotional"), "medium"),
        (("economic", "time"), "high"),
        (("social", "emotional"), "high"),
        (("economic", "time", "social", "emotional"), "high"),
    ],
)
def test_severity_of_decided_costs(costs: tuple[str, ...], severity: str) -> None:
    assert severity_of(costs) == severity


@pytest.mark.parametrize(
    ("churn", "lifetime_value", "margin", "ceiling", "arithmetic"),
    [
        (0.8, 60000, 0.25, 12000.0, "60000 × 0.25 × 0.80 = 12000"),
        (0.8765, 45000, 0.3, 11832.75, "45000 × 0.30 × 0.8765 = 11832.75"),
        (0.05, 1000, 1.0, 50.0, "1000 × 1 × 0.05 = 50"),
    ],
)
def test_budget_arithmetic(
    churn: float, lifetime_value: float, margin: float, ceiling: float, arithmetic: str, playbook: Playbook
) -> None:
    plan = plan_remedies(predict(economic=0.9, churn=churn), playbook, lifetime_value=lifetime_value, margin=margin)
    assert plan.budget.ceiling == ceiling
    assert plan.budget.arithmetic == arithmetic
    assert plan.budget.automatic
    assert "lifetime value × margin × churn probability" in plan.budget.note


def test_budget_under_abuse_review_and_non_complaints(playbook: Playbook) -> None:
    abuse = plan_remedies(predict(abuse_risk=0.9, churn=0.9), playbook, lifetime_value=60000, margin=0.25).budget
    assert (abuse.ceiling, abuse.automatic, abuse.arithmetic) == (0.0, False, None)
    assert "no automatic compensation" in abuse.note
    review = plan_remedies(predict(economic=0.6, churn=0.8), playbook, lifetime_value=60000, margin=0.25).budget
    assert (review.ceiling, review.automatic) == (12000.0, False)
    assert "nothing is promised before human review" in review.note
    praise = plan_remedies(predict(is_complaint=0.05), playbook, lifetime_value=60000, margin=0.25).budget
    assert (praise.ceiling, praise.automatic) == (0.0, False)
    unknown = plan_remedies(predict(economic=0.9), playbook, lifetime_value=60000).budget
    assert (unknown.ceiling, unknown.arithmetic) == (None, None)


@pytest.mark.parametrize(("lifetime_value", "margin"), [(-1.0, 0.2), (1000.0, 1.5), (1000.0, -0.1)])
def test_budget_rejects_impossible_inputs(lifetime_value: float, margin: float) -> None:
    with pytest.raises(ValueError):
        compensation_budget("standard", 0.5, lifetime_value, margin)


# --- languages ---------------------------------------------------------------------------------------------------------

RUSSIAN_WORDS = {"вы", "вам", "вами", "мы", "нам", "что", "чтобы", "если", "это", "будет", "ещё", "всё"}
BULGARIAN_WORDS = {"ви", "ще", "сме", "че", "ако", "това", "като", "е", "са", "бъде", "най", "вече"}
ROMANIAN_LETTERS = set("ăâîșțĂÂÎȘȚ")


def cyrillic_words(text: str) -> set[str]:
    return set(re.findall(r"[а-яёъ]+", text.lower()))


def is_russian(text: str) -> bool:
    words = cyrillic_words(text)
    return bool(words & RUSSIAN_WORDS) and not words & BULGARIAN_WORDS


def is_bulgarian(text: str) -> bool:
    words = cyrillic_words(text)
    return bool(words & BULGARIAN_WORDS) and not words & RUSSIAN_WORDS and not set("ыэё") & set(text.lower())


def is_romanian(text: str) -> bool:
    """Latin script with Romanian diacritics, comma-below ș/ț rather than the cedilla ş/ţ."""
    return bool(ROMANIAN_LETTERS & set(text)) and not set("şţŞŢ") & set(text) and not cyrillic_words(text)


def is_english(text: str) -> bool:
    return text.isascii() and bool(re.search(r"\b(we|you|your|the)\b", text, re.IGNORECASE))


IS_LANGUAGE = {"ru": is_russian, "bg": is_bulgarian, "ro": is_romanian, "en": is_english}


@pytest.mark.parametrize(
    ("predicted", "customer_lang", "wording_lang", "manager_lang"),
    [
        ("ru", None, "ru", "en"),
        ("ro", None, "ro", "ru"),
        ("bg", None, "bg", "ro"),
        ("ru", "bg", "bg", "bg"),
        ("bg", "en", "en", "ru"),
        (OTHER_LANGUAGE, None, "en", "en"),
        ("ru", OTHER_LANGUAGE, "en", "ro"),
    ],
)
def test_wording_in_customer_language_titles_in_manager_language(
    predicted: str, customer_lang: str | None, wording_lang: str, manager_lang: str, playbook: Playbook
) -> None:
    plan = plan_remedies(
        predict(predicted, economic=0.9, churn=0.9), playbook, customer_lang=customer_lang, manager_lang=manager_lang
    )
    remedies = {remedy.id: remedy for remedy in playbook.remedies}
    assert plan.customer_lang == wording_lang
    assert plan.suggestions
    for suggestion in plan.suggestions:
        assert suggestion.wording == remedies[suggestion.id].wording.text(wording_lang)
        assert suggestion.title == remedies[suggestion.id].title.text(manager_lang)
        assert IS_LANGUAGE[wording_lang](suggestion.wording), suggestion.wording


def test_unknown_manager_language_is_rejected(playbook: Playbook) -> None:
    with pytest.raises(ValueError, match="manager language"):
        plan_remedies(predict(), playbook, manager_lang="de")


# --- the shipped playbook ----------------------------------------------------------------------------------------------

PRACTICES = {
    "apology_by_manager",
    "apology_letterhead",
    "fix_fast",
    "replace_not_discount",
    "three_solutions",
    "refund",
    "partial_refund",
    "cover_extra_costs",
    "redo_free_or_discounted",
    "guarantee_clause",
    "gift_or_bonus",
    "upgrade_same_price",
    "free_service_period",
    "change_employee",
    "freeze_or_transfer_contract",
    "last_chance_trial",
    "stay_in_touch",
    "claim_form",
    "costs_statement",
    "lawyer_review_10_days",
    "no_automatic_cash",
    "escalate_to_manager",
    "human_review",
}


def test_shipped_playbook_covers_the_practices_of_the_sources(playbook: Playbook) -> None:
    assert playbook.path == SHIPPED_PLAYBOOK
    ids = {remedy.id for remedy in playbook.remedies}
    assert ids >= PRACTICES, f"missing {PRACTICES - ids}"
    for remedy in playbook.remedies:
        assert re.search(r"source 00[0-4]", remedy.rationale), remedy.id


def test_shipped_texts_are_in_their_languages(playbook: Playbook) -> None:
    for remedy in playbook.remedies:
        title = remedy.title
        assert title.en.isascii() and cyrillic_words(title.ru) and cyrillic_words(title.bg), remedy.id
        assert not set("şţŞŢ") & set(title.ro) and not cyrillic_words(title.ro), remedy.id
        assert not set("ыэё") & set(title.bg.lower()), remedy.id
        assert is_english(remedy.wording.en), remedy.id
        assert is_russian(remedy.wording.ru), remedy.id
        assert is_bulgarian(remedy.wording.bg), remedy.id
        assert is_romanian(remedy.wording.ro), remedy.id


def test_confidence_levels_match_the_model() -> None:
    assert set(CONFIDENCE_LEVELS) == set(get_args(Confidence))


def test_playbook_file_setting_defaults_to_the_shipped_one() -> None:
    assert Settings(_env_file=None).playbook_file is None  # type: ignore[call-arg]


# --- playbook validation -----------------------------------------------------------------------------------------------

REMEDY = """\
  - id: {id}
    priority: 50
    money: false
    when:
      modes: [standard]
      costs_any: [economic]
    title: {{ru: Извинение, ro: Scuze, bg: Извинение, en: Apology}}
    wording: {{ru: Просим прощения., ro: Ne pare rău., bg: Съжаляваме., en: We are sorry.}}
    rationale: "source 003: apologise"
"""
SECOND_LINE = 11
THIRD_LINE = 20
"""`remedies:` is line 1 and each remedy of `REMEDY` takes nine lines."""


def write_playbook(tmp_path: Path, second: str, third: str | None = None) -> Path:
    path = tmp_path / "playbook.yaml"
    third = third if third is not None else REMEDY.format(id="third")
    path.write_text("remedies:\n" + REMEDY.format(id="first") + second + third, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    return [(problem.line, problem.message) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ([("costs_any: [economic]", "costs_any: [money]")], "when.costs_any: unknown cost label 'money'"),
        ([("costs_any: [economic]", "costs_all: [economic, fun]")], "when.costs_all: unknown cost label 'fun'"),
        ([("costs_any: [economic]", "costs_any: [economic]\n      colour: red")], "when.colour: unknown key"),
        ([("    priority: 50", "    priority: 50\n    colour: red")], "colour: unknown key"),
        ([("modes: [standard]", "modes: [panic]")], "when.modes.0: Input should be"),
        ([("modes: [standard]", "modes: []")], "when.modes: List should have at least 1 item"),
        ([("bg: Съжаляваме., ", "")], "wording: missing translation 'bg'"),
        ([("en: Apology}", "en: Apology, de: Entschuldigung}")], "title.de: unknown key"),
        ([("ro: Scuze,", "ro: '  ',")], "title.ro: empty text"),
        ([('rationale: "source 003: apologise"', 'rationale: ""')], "rationale: empty text"),
        ([("    money: false\n", "")], "missing money"),
        ([("costs_any: [economic]", "min_customer_value: -5")], "when.min_customer_value: Input should be greater"),
        ([("money: false", "money: true"), ("modes: [standard]", "modes: [abuse]")], "money: true may not apply"),
    ],
)
def test_each_remedy_problem_names_its_line(tmp_path: Path, edits: list[tuple[str, str]], message: str) -> None:
    second = REMEDY.format(id="second")
    for old, new in edits:
        assert old in second
        second = second.replace(old, new)
    problems = problems_of(write_playbook(tmp_path, second))
    assert len(problems) == 1
    line, text = problems[0]
    assert line == SECOND_LINE
    assert text.startswith("remedy 'second': ")
    assert message in text


def test_duplicate_ids_and_several_problems_are_all_reported(tmp_path: Path) -> None:
    broken_third = REMEDY.format(id="third").replace("en: We are sorry.", "en: ''")
    path = write_playbook(tmp_path, REMEDY.format(id="first"), broken_third)
    assert problems_of(path) == [
        (SECOND_LINE, "remedy 'first': duplicate id (first on line 2)"),
        (THIRD_LINE, "remedy 'third': wording.en: empty text"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("remedies:\n  - id: a\n   priority: 5\n", 3, "invalid YAML"),
        ("remedies: []\nowner: me\n", 2, "unknown top-level key 'owner'"),
        ("remedies: []\n", 1, "'remedies' must be a non-empty list"),
        ("# nothing but a comment\nrules:\n  - id: a\n", 2, "missing the 'remedies' list"),
        ("- id: a\n", 1, "expected a mapping with a 'remedies' list"),
        ("remedies:\n  - just text\n", 2, "remedy #1: Input should be a valid dictionary"),
    ],
)
def test_document_problems_name_their_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    assert any(found == line and message in found_message for found, found_message in problems), problems


def test_error_lists_each_problem_with_file_and_line(tmp_path: Path) -> None:
    path = write_playbook(tmp_path, REMEDY.format(id="second").replace("costs_any: [economic]", "costs_any: [x]"))
    with pytest.raises(PlaybookError, match=re.escape(f"{path}:{SECOND_LINE}: remedy 'second'")):
        load_playbook(path)


def test_missing_file_is_a_playbook_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "absent.yaml")[0][0] is None


# --- the CLI -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_check_valid_playbook_exits_0() -> None:
    result = CliRunner().invoke(app, ["remedies", "check", str(SHIPPED_PLAYBOOK)])
    assert result.exit_code == 0, result.output
    assert "valid, 28 remedies" in result.output


def test_cli_check_invalid_playbook_exits_1_with_lines(tmp_path: Path) -> None:
    path = write_playbook(tmp_path, REMEDY.format(id="second").replace("costs_any: [economic]", "costs_any: [x]"))
    result = CliRunner().invoke(app, ["remedies", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{SECOND_LINE}: remedy 'second': when.costs_any: unknown cost label 'x'" in result.output
    assert "invalid, 1 problem(s)" in result.output


def test_cli_check_defaults_to_the_configured_playbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    path = write_playbook(tmp_path, REMEDY.format(id="first"))
    monkeypatch.setenv("TRIAGE_PLAYBOOK_FILE", str(path))
    result = CliRunner().invoke(app, ["remedies", "check"])
    assert result.exit_code == 1
    assert f"{path}:{SECOND_LINE}: remedy 'first': duplicate id" in result.output


def test_an_operators_playbook_drives_the_engine(tmp_path: Path) -> None:
    path = write_playbook(tmp_path, REMEDY.format(id="second"))
    plan: Plan = plan_remedies(predict("ro", economic=0.9), load_playbook(path))
    assert [suggestion.id for suggestion in plan.suggestions] == ["first", "second", "third"]
    assert plan.suggestions[0].wording == "Ne pare rău."


def test_all_of_costs_needs_every_cost(tmp_path: Path) -> None:
    second = REMEDY.format(id="second").replace("costs_any: [economic]", "costs_all: [economic, social]")
    playbook = load_playbook(write_playbook(tmp_path, second))
    alone = plan_remedies(predict(economic=0.9), playbook)
    assert "second" not in [suggestion.id for suggestion in alone.suggestions]
    both = plan_remedies(predict(economic=0.9, social=0.8), playbook)
    why = {suggestion.id: suggestion.why for suggestion in both.suggestions}["second"]
    assert why.tags == {"is_complaint": 0.95, "economic": 0.9, "social": 0.8}
    assert "all of costs (economic, social) decided" in why.conditions
