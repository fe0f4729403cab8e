"""The whole train -> save -> load -> evaluate -> predict path on a tiny random backbone, through the CLI."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model.bundle import MODEL_CONFIG, ModelDirectoryError
from model.classifier import TRAINED_WEIGHTS
from model.labels import ALL_LABELS
from model.predictor import Predictor
from tests.conftest import make_record
from tests.fake_e5 import write_fake_e5
from triage.cli import app
from triage.settings import get_settings

WORDS = {
    "ru": ["жду", "деньги", "не", "спасибо"],
    "ro": ["comanda", "banii", "nu", "ok"],
    "bg": ["поръчка", "не", "ok"],
}


def _tiny_corpus(path: Path) -> Path:
    rng = random.Random(7)
    rows = []
    for i in range(72):
        lang = ("ru", "ro", "bg")[i % 3]
        costs = [c for c in ("economic", "time", "social", "emotional") if rng.random() < 0.4]
        text = " ".join(rng.choices(WORDS[lang], k=rng.randint(2, 40)))
        split = ("train", "train", "dev", "test")[i % 4]
        rows.append(make_record(id=f"{lang}-{i}", text=text, lang=lang, costs=costs, churn=i % 5 == 0, split=split))
    for row in rows:
        row["churn"] = int(row["churn"])
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("pipeline")
    env = pytest.MonkeyPatch()
    env.setenv("TRIAGE_CACHE_DIR", str(root / "cache"))
    env.setenv("TRIAGE_BACKBONE_FILE", str(write_fake_e5(root / "fake.bin")))
    env.setenv("TRIAGE_MODEL_DIR", str(root / "model"))
    get_settings.cache_clear()
    corpus = _tiny_corpus(root / "corpus.jsonl")
    result = CliRunner().invoke(
        app,
        ["train", "--data", str(corpus), "--output", str(root / "model"), "--set", "epochs=2", "--set", "batch_size=8"],
    )
    assert result.exit_code == 0, result.output
    yield {"root": root, "corpus": corpus, "model": root / "model"}
    env.undo()
    get_settings.cache_clear()


def test_model_directory_holds_only_the_trained_part(tiny_setup: dict[str, Path]) -> None:
    model_dir = tiny_setup["model"]
    metadata = json.loads((model_dir / MODEL_CONFIG).read_text())
    assert metadata["labels"] == list(ALL_LABELS)
    assert metadata["training_data"]["train_records"] == 36 and metadata["training_data"]["dev_records"] == 18
    assert len(metadata["training_data"]["sha256"]) == 64
    for label in ALL_LABELS:
        assert 0.05 <= metadata["calibration"][label]["threshold"] <= 0.95
    trained = (model_dir / TRAINED_WEIGHTS).stat().st_size
    backbone = next((tiny_setup["root"] / "cache" / "backbone").glob("e5-small-*")) / "model.safetensors"
    assert trained < backbone.stat().st_size
    assert not (model_dir / "checkpoints").exists()


def test_evaluate_reports_every_label_and_language_as_json(tiny_setup: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["evaluate", "--data", str(tiny_setup["corpus"]), "--split", "test", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["overall"]["n"] == 18
    assert set(report["by_language"]) == {"ru", "ro", "bg"}
    for label in ALL_LABELS:
        scores = report["overall"]["labels"][label]
        assert scores["tp"] + scores["fp"] + scores["fn"] + scores["tn"] == 18
        assert 0.0 <= scores["ece"] <= 1.0
    markdown = CliRunner().invoke(app, ["evaluate", "--data", str(tiny_setup["corpus"]), "--split", "test"])
    assert "| ro | 6 |" in markdown.output and "macro-F1 (costs)" in markdown.output


def test_predict_reads_text_and_jsonl_and_writes_every_label(tiny_setup: dict[str, Path]) -> None:
    runner = CliRunner()
    plain = runner.invoke(app, ["predict"], input="жду деньги\n\ncomanda nu\n")
    rows = [json.loads(line) for line in plain.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["1", "3"]
    for row in rows:
        assert set(row["labels"]) == set(ALL_LABELS)
        for label in row["labels"].values():
            assert 0.0 <= label["prob"] <= 1.0 and label["confidence"] in {"high", "medium", "low"}
            assert isinstance(label["decision"], bool)
    source = tiny_setup["root"] / "in.jsonl"
    source.write_text('{"id": "t-1", "text": "поръчка не"}\n{"id": "t-2", "text": "ok ok"}\n', encoding="utf-8")
    out = tiny_setup["root"] / "out.jsonl"
    result = runner.invoke(app, ["predict", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["t-1", "t-2"]
    bad = runner.invoke(app, ["predict"], input='{"id": 1}\n')
    assert bad.exit_code == 2 and "text" in bad.output


def test_predictions_are_deterministic_and_decisions_follow_thresholds(tiny_setup: dict[str, Path]) -> None:
    settings = get_settings()
    predictor = Predictor.load(tiny_setup["model"], settings.cache_dir, settings.backbone_file)
    first = predictor.predict(["жду деньги не", "banii nu ok"])
    assert first == predictor.predict(["жду деньги не", "banii nu ok"])
    for prediction in first:
        for name, label in prediction.labels.items():
            assert label.decision == (label.prob >= predictor.metadata.calibration[name].threshold)


@pytest.mark.parametrize("damage", ["schema_version", "missing_weights", "foreign_weights"])
def test_broken_model_directory_fails_with_a_clear_error(
    tiny_setup: dict[str, Path], tmp_path: Path, damage: str
) -> None:
    import shutil

    broken = tmp_path / "model"
    shutil.copytree(tiny_setup["model"], broken)
    if damage == "schema_version":
        config = json.loads((broken / MODEL_CONFIG).read_text())
        config["schema_version"] = 999
        (broken / MODEL_CONFIG).write_text(json.dumps(config))
        expected = "schema version"
    elif damage == "missing_weights":
        (broken / TRAINED_WEIGHTS).unlink()
        expected = "lacks"
    else:
        (broken / TRAINED_WEIGHTS).write_bytes(b"not safetensors")
        expected = "cannot load weights"
    settings = get_settings()
    with pytest.raises(ModelDirectoryError, match=expected):
        Predictor.load(broken, settings.cache_dir, settings.backbone_file)


def test_language_detector_survives_save_and_load(tmp_path: Path) -> None:
    from model.langid import LanguageDetector

    texts = ["жду деньги уже месяц", "спасибо всё пришло", "comanda nu a ajuns", "banii inapoi va rog"]
    texts += ["поръчката не пристигна", "върнете ми парите", "my order is late", "thanks a lot"]
    detector = LanguageDetector.fit(texts, ["ru", "ru", "ro", "ro", "bg", "bg", "other", "other"])
    detector.save(tmp_path)
    loaded = LanguageDetector.load(tmp_path)
    assert loaded.predict(texts) == detector.predict(texts)
    assert [lang for lang, _ in loaded.predict(texts)] == ["ru", "ru", "ro", "ro", "bg", "bg", "other", "other"]
    assert loaded.predict(["12345 !!!"]) == [("other", 1.0)]
