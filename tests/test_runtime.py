"""The int8 ONNX runtime on a tiny model: built once into the cache and verified, agrees with PyTorch, falls back."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model.bundle import ModelMetadata
from model.export import EXPORT_MANIFEST, ONNX_FILE, export_key, export_model
from model.labels import ALL_LABELS
from model.predictor import Predictor
from model.runtime import TorchEngine, engine_logits, length_batches, pad_batch
from tests.conftest import make_record
from tests.fake_e5 import write_fake_e5
from triage.cli import app
from triage.settings import Runtime, get_settings

MAX_MODEL_DIR_BYTES = 25 * 1024 * 1024
WORDS = {
    "ru": ["жду", "деньги", "не", "спасибо", "заказ", "верните"],
    "ro": ["comanda", "banii", "nu", "ok", "livrare", "inapoi"],
    "bg": ["поръчка", "не", "ok", "парите", "върнете"],
}
CUES = {"economic": {"деньги", "banii", "парите"}, "time": {"жду", "livrare"}, "social": {"заказ", "comanda"}}
"""Words that make a text carry a cost, so that the tiny model has something real to learn and to be sure of."""


def texts(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = WORDS[rng.choice(("ru", "ro", "bg"))]
        out.append(" ".join(rng.choices(words, k=rng.randint(1, 30))))
    return out


def write_learnable_corpus(path: Path, size: int) -> Path:
    """Texts whose labels follow from their words."""
    rows = []
    for i, text in enumerate(texts(size, seed=11)):
        words = set(text.split())
        costs = [cost for cost, cues in CUES.items() if words & cues]
        if {"не", "nu"} & words:
            costs.append("emotional")
        lang = next(lang for lang, vocabulary in WORDS.items() if words <= set(vocabulary))
        split = ("train", "train", "dev", "test")[i % 4]
        churn = int("спасибо" in words or "inapoi" in words)
        rows.append(make_record(id=f"t-{i}", text=text, lang=lang, costs=costs, churn=churn, split=split))
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny model trained with `train_model`, which also builds its int8 ONNX form into the cache."""
    from training.config import load_config
    from training.train import train_model

    root = tmp_path_factory.mktemp("runtime")
    backbone = write_fake_e5(root / "fake.bin", seed=3, hidden=64)
    corpus = write_learnable_corpus(root / "corpus.jsonl", size=160)
    overrides = [f"data={json.dumps([str(corpus)])}", f"output_dir={json.dumps(str(root / 'model'))}"]
    settings = ["epochs=20", "learning_rate=0.003", "top_layers=2", "batch_size=8", "max_length=48"]
    model_dir = train_model(load_config(None, [*overrides, *settings]), root / "cache", backbone)
    return {"model": model_dir, "cache": root / "cache", "backbone": backbone}


def load(tiny: dict[str, Path], runtime: Runtime) -> Predictor:
    return Predictor.load(tiny["model"], tiny["cache"], tiny["backbone"], runtime=runtime)


def export_dirs(tiny: dict[str, Path]) -> list[Path]:
    return sorted(p for p in (tiny["cache"] / "onnx").iterdir() if p.is_dir())


def test_training_builds_the_int8_model_into_the_cache_and_the_model_directory_stays_small(
    tiny: dict[str, Path],
) -> None:
    [directory] = export_dirs(tiny)
    metadata = ModelMetadata.load(tiny["model"])
    key = export_key(tiny["model"], metadata)
    assert directory.name == f"{metadata.version}-{key[:16]}"
    manifest = json.loads((directory / EXPORT_MANIFEST).read_text())
    assert manifest["key"] == key and manifest["model_version"] == metadata.version
    assert (directory / ONNX_FILE).stat().st_size > 0
    assert sorted(p.name for p in directory.iterdir()) == [EXPORT_MANIFEST, ONNX_FILE]  # no work files left
    assert not list(tiny["model"].glob("*.onnx"))
    assert sum(p.stat().st_size for p in tiny["model"].rglob("*") if p.is_file()) < MAX_MODEL_DIR_BYTES


def test_int8_decisions_agree_with_pytorch(tiny: dict[str, Path]) -> None:
    sample = texts(300)
    onnx, torch = load(tiny, Runtime.onnx), load(tiny, Runtime.torch)
    assert (onnx.runtime, torch.runtime) == ("onnx-int8", "torch")
    fast, reference = onnx.predict(sample), torch.predict(sample)
    both = list(zip(fast, reference, strict=True))
    for name in ALL_LABELS:
        agreement = np.mean([f.labels[name].decision == r.labels[name].decision for f, r in both])
        assert agreement >= 0.98, (name, agreement)
    pairs = [(f.labels[n], r.labels[n]) for f, r in both for n in ALL_LABELS]
    differences = np.array([abs(a.prob - b.prob) for a, b in pairs])
    assert differences.mean() < 0.02 and np.percentile(differences, 99) < 0.1, np.percentile(differences, [50, 99])
    assert [p.lang for p in fast] == [p.lang for p in reference]


def test_smoothing_divides_layer_norm_outputs_without_changing_the_float_results(
    tiny: dict[str, Path], tmp_path: Path
) -> None:
    import onnx
    import onnxruntime as ort

    from model.backbone import ensure_backbone
    from model.classifier import load_classifier
    from model.export import _export_fp32, _fuse, _prepare, _probe_batch
    from model.smoothing import smooth_graph

    metadata = ModelMetadata.load(tiny["model"])
    model = load_classifier(tiny["model"], ensure_backbone(tiny["cache"], tiny["backbone"]), metadata)
    config = _prepare(model)
    _export_fp32(model, tmp_path / "fp32.onnx", config.vocab_size)
    _fuse(tmp_path / "fp32.onnx", tmp_path / "fused.onnx", config.num_attention_heads, config.hidden_size)
    smoothed = smooth_graph(tmp_path / "fused.onnx", tmp_path / "smoothed.onnx", config.vocab_size, metadata.max_length)

    graph = onnx.load(str(tmp_path / "smoothed.onnx")).graph
    consumers = {node.input[0]: node.op_type for node in graph.node if node.input}
    divided = [consumers[node.output[0]] for node in graph.node if node.name.endswith("/smooth")]
    # each layer: the attention (query, key, value) and the feed-forward input projection read a layer norm
    assert smoothed == 2 * config.num_hidden_layers
    assert [output.name for output in graph.output] == ["logits"]
    assert sorted(divided) == ["Attention"] * config.num_hidden_layers + ["MatMul"] * config.num_hidden_layers
    input_ids, attention_mask = _probe_batch(config.vocab_size)
    feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
    before, after = (
        ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0]
        for name in ("fused.onnx", "smoothed.onnx")
    )
    assert np.abs(after - before).max() < 1e-4


def test_length_sorted_batches_return_rows_in_input_order(tiny: dict[str, Path]) -> None:
    predictor = load(tiny, Runtime.onnx)
    sample = texts(40, seed=9)
    together = predictor.logits(sample)
    one_by_one = np.concatenate([predictor.logits([text]) for text in sample])
    assert together.shape == (40, len(ALL_LABELS))
    # int8 activations are scaled per batch, so batching moves logits a little; a row mix-up would move them a lot.
    own = np.abs(together - one_by_one).mean()
    assert own < 0.2 * np.abs(together - one_by_one[::-1]).mean() and own < 0.1 * together.std()


def test_torch_engine_gives_the_same_logits_whatever_the_batching(tiny: dict[str, Path]) -> None:
    predictor = load(tiny, Runtime.torch)
    assert isinstance(predictor.engine, TorchEngine)
    ids = [[0, 5, 6, 2], [0, 7, 2], [0, 5, 5, 5, 5, 6, 2], [0, 2]]
    batched = engine_logits(predictor.engine, ids, 1, len(ALL_LABELS), batch_size=3)
    single = np.concatenate([predictor.engine.run(*pad_batch([row], 1)) for row in ids])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_pad_batch_pads_on_the_right_with_a_mask() -> None:
    input_ids, mask = pad_batch([[0, 5, 2], [0, 2]], pad_id=1)
    assert input_ids.tolist() == [[0, 5, 2], [0, 2, 1]] and mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert input_ids.dtype == mask.dtype == np.int64


def test_length_batches_group_similar_lengths_within_both_limits() -> None:
    lengths = [5, 100, 6, 90, 7, 300, 5, 8]
    batches = length_batches(lengths, batch_size=3, max_tokens=200)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert batches == [[0, 6, 2], [4, 7], [3, 1], [5]]  # a lone text longer than the budget still runs
    for batch in batches:
        assert len(batch) <= 3 and (len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 200)


def test_a_verified_export_is_reused_and_a_corrupt_one_rebuilt(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export_model(tiny["model"], tiny["cache"], tiny["backbone"])
    import model.export

    def fail(*_: object) -> None:
        raise AssertionError("rebuilt a valid export")

    with monkeypatch.context() as patched:
        patched.setattr(model.export, "build_onnx", fail)
        assert export_model(tiny["model"], tiny["cache"], tiny["backbone"]) == path
    original = path.read_bytes()
    path.write_bytes(original[:-10])
    assert export_model(tiny["model"], tiny["cache"], tiny["backbone"]) == path
    assert len(path.read_bytes()) == len(original)


def test_settings_or_a_missing_onnxruntime_or_a_failed_export_select_pytorch(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import model.export
    import model.predictor

    monkeypatch.setenv("TRIAGE_RUNTIME", "torch")
    get_settings.cache_clear()
    try:
        assert Predictor.load(tiny["model"], tiny["cache"], tiny["backbone"]).runtime == "torch"
    finally:
        monkeypatch.delenv("TRIAGE_RUNTIME")
        get_settings.cache_clear()
    assert Predictor.load(tiny["model"], tiny["cache"], tiny["backbone"]).runtime == "onnx-int8"
    with monkeypatch.context() as patched:
        patched.setattr(model.predictor, "onnxruntime_available", lambda: False)
        assert load(tiny, Runtime.onnx).runtime == "torch"

    def broken(*_: object) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(model.export, "is_valid_export", lambda *_: False)
    monkeypatch.setattr(model.export, "build_onnx", broken)
    predictor = load(tiny, Runtime.onnx)
    assert predictor.runtime == "torch" and len(predictor.predict(["ok"])) == 1


def test_cli_export_writes_into_an_explicit_folder(tiny: dict[str, Path], tmp_path: Path) -> None:
    settings_env = {"TRIAGE_CACHE_DIR": str(tiny["cache"]), "TRIAGE_BACKBONE_FILE": str(tiny["backbone"])}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["export", "--model", str(tiny["model"]), "--output", str(tmp_path / "out")], env=settings_env
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"out/{ONNX_FILE}")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [EXPORT_MANIFEST, ONNX_FILE]
    missing = CliRunner().invoke(app, ["export", "--model", str(tmp_path / "nowhere")], env=settings_env)
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_serving_the_onnx_model_does_not_import_pytorch(tiny: dict[str, Path]) -> None:
    script = (
        "import sys; from pathlib import Path; from model.predictor import Predictor; "
        f"p = Predictor.load(Path({str(tiny['model'])!r}), Path({str(tiny['cache'])!r}), "
        f"Path({str(tiny['backbone'])!r}), runtime='onnx'); p.predict(['ok']); "
        "print(p.runtime, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["onnx-int8", "False"]
