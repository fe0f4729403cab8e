"""The remedy playbook: its typed schema and a loader that reports every problem with its line in the YAML file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from model.labels import COST_LABELS
from remedies.severity import Severity

SHIPPED_PLAYBOOK = Path(__file__).with_name("playbook.yaml")

Mode = Literal["standard", "abuse", "win_back", "human_review", "no_action"]
MONEY_MODES: tuple[Mode, ...] = ("standard", "win_back")
"""The only plan modes in which a remedy may promise money."""

ConfidenceLevel = Literal["low", "medium", "high"]
CONFIDENCE_LEVELS: tuple[ConfidenceLevel, ...] = ("low", "medium", "high")
"""The model's confidence levels (`model.calibration.Confidence`), least sure first."""

TEXT_LANGUAGES: tuple[str, ...] = ("ru", "ro", "bg", "en")
"""Every title and wording is written in each of these."""


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty text")
    return text.strip()


Text = Annotated[str, AfterValidator(_not_blank)]


class Texts(BaseModel):
    """One text in every language of `TEXT_LANGUAGES`."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    ru: Text
    ro: Text
    bg: Text
    en: Text

    def text(self, lang: str) -> str:
        """The text in `lang` (one of `TEXT_LANGUAGES`)."""
        value: str = getattr(self, lang)
        return value


class Conditions(BaseModel):
    """When a remedy applies; every condition given must hold."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    modes: list[Mode] = Field(min_length=1)
    costs_any: list[str] = []
    costs_all: list[str] = []
    abuse_risk: bool | None = None
    churn: bool | None = None
    min_confidence: ConfidenceLevel = "low"
    min_severity: Severity = "none"
    min_customer_value: float | None = Field(default=None, gt=0)

    @field_validator("costs_any", "costs_all")
    @classmethod
    def _known_costs(cls, costs: list[str]) -> list[str]:
        unknown = [cost for cost in costs if cost not in COST_LABELS]
        if unknown:
            raise ValueError(f"unknown cost label {', '.join(map(repr, unknown))}; allowed: {', '.join(COST_LABELS)}")
        return costs


class Remedy(BaseModel):
    """One action of the playbook."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    priority: int = Field(ge=0, le=100)
    money: bool
    when: Conditions
    title: Texts
    wording: Texts
    rationale: Text

    @model_validator(mode="after")
    def _no_money_outside_money_modes(self) -> Remedy:
        barred = [mode for mode in self.when.modes if mode not in MONEY_MODES]
        if self.money and barred:
            raise ValueError(f"a remedy with money: true may not apply in modes {', '.join(barred)}")
        return self


@dataclass(frozen=True)
class Playbook:
    """The validated remedies of one playbook file, in file order."""

    path: Path
    remedies: tuple[Remedy, ...]


@dataclass(frozen=True)
class PlaybookProblem:
    """One thing wrong with a playbook file; `line` is 1-based, None when no line applies."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class PlaybookError(ValueError):
    """A playbook file that cannot be used; `problems` lists everything wrong with it."""

    def __init__(self, path: Path, problems: list[PlaybookProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"invalid playbook {path}:\n" + "\n".join(map(str, problems)))


ALLOWED_KEYS: dict[str, tuple[str, ...]] = {
    "remedy": tuple(Remedy.model_fields),
    "when": tuple(Conditions.model_fields),
    "title": TEXT_LANGUAGES,
    "wording": TEXT_LANGUAGES,
}


def _describe(error: ErrorDetails) -> str:
    """A readable message for one pydantic error inside a remedy."""
    loc = [str(part) for part in error["loc"]]
    where = ".".join(loc)
    parent = loc[-2] if len(loc) > 1 else "remedy"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key; allowed: {', '.join(ALLOWED_KEYS.get(parent, ()))}"
    if error["type"] == "missing":
        return f"{parent}: missing translation {loc[-1]!r}" if parent in ("title", "wording") else f"missing {where}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _compose(path: Path, text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (which knows line numbers) and the Python data built from it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        detail = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise PlaybookError(path, [PlaybookProblem(path, line, f"invalid YAML: {detail}")]) from exc
    except yaml.YAMLError as exc:
        raise PlaybookError(path, [PlaybookProblem(path, None, f"invalid YAML: {exc}")]) from exc
    finally:
        loader.dispose()


def _remedy_entries(
    path: Path, root: yaml.Node | None, data: Any
) -> tuple[list[tuple[int, Any]], list[PlaybookProblem]]:
    """Each item of the top-level `remedies` list with its line, and the problems of the document's shape."""
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else None
        return [], [PlaybookProblem(path, line, "expected a mapping with a 'remedies' list")]
    problems = [
        PlaybookProblem(path, key.start_mark.line + 1, f"unknown top-level key {key.value!r}")
        for key, _ in root.value
        if key.value != "remedies"
    ]
    remedies = next((value for key, value in root.value if key.value == "remedies"), None)
    if remedies is None:
        problems.append(PlaybookProblem(path, root.start_mark.line + 1, "missing the 'remedies' list"))
    elif not isinstance(remedies, yaml.SequenceNode) or not remedies.value:
        problems.append(PlaybookProblem(path, remedies.start_mark.line + 1, "'remedies' must be a non-empty list"))
    else:
        lines = [node.start_mark.line + 1 for node in remedies.value]
        return list(zip(lines, data["remedies"], strict=True)), problems
    return [], problems


def _validate(path: Path, entries: list[tuple[int, Any]]) -> tuple[list[Remedy], list[PlaybookProblem]]:
    """Validate each remedy; duplicate ids are reported on the later remedy."""
    remedies: list[Remedy] = []
    problems: list[PlaybookProblem] = []
    first_line: dict[str, int] = {}
    for number, (line, raw) in enumerate(entries, start=1):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        name = f"remedy {raw_id!r}" if isinstance(raw_id, str) else f"remedy #{number}"
        if isinstance(raw_id, str) and raw_id in first_line:
            problems.append(PlaybookProblem(path, line, f"{name}: duplicate id (first on line {first_line[raw_id]})"))
        elif isinstance(raw_id, str):
            first_line[raw_id] = line
        try:
            remedies.append(Remedy.model_validate(raw))
        except ValidationError as exc:
            problems.extend(PlaybookProblem(path, line, f"{name}: {_describe(error)}") for error in exc.errors())
    return remedies, problems


def load_playbook(path: Path | None = None) -> Playbook:
    """Load and validate a playbook file (default: the shipped one); raise `PlaybookError` listing every problem."""
    source = path or SHIPPED_PLAYBOOK
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(source, [PlaybookProblem(source, None, f"cannot read the file: {exc}")]) from exc
    entries, problems = _remedy_entries(source, *_compose(source, text))
    remedies, remedy_problems = _validate(source, entries)
    problems += remedy_problems
    if problems:
        raise PlaybookError(source, sorted(problems, key=lambda problem: problem.line or 0))
    return Playbook(source, tuple(remedies))
