"""Training internals: cached top-layer training matches the full network; LoRA trains and reloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import PreTrainedTokenizerFast

from model.backbone import ensure_backbone
from model.classifier import Adaptation, build_classifier
from model.predictor import Predictor, batched_logits
from model.text import encode_texts
from tests.fake_e5 import write_fake_e5
from tests.test_pipeline import _tiny_corpus
from training.cached_top import CachedDataset, TopStack, cache_lower_layers, collate_cached
from training.config import TrainConfig, load_config
from training.train import positive_weights, train_model

TEXTS = ["жду деньги не спасибо", "comanda nu ok", "поръчка не ok " * 30, "ok"]


@pytest.fixture(scope="module")
def backbone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("training")
    source = write_fake_e5(root / "fake.bin", layers=3)
    return ensure_backbone(root / "cache", source), source


def test_top_stack_on_cached_activations_equals_the_full_classifier(backbone: tuple[Path, Path]) -> None:
    directory, _ = backbone
    classifier = build_classifier(directory, 7, Adaptation(top_layers=2)).eval()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(directory)
    ids = encode_texts(tokenizer, TEXTS, 48)
    cached = cache_lower_layers(classifier, tokenizer, ids, top_layers=2)
    assert [c.shape[0] for c in cached] == [len(i) for i in ids]
    batch = collate_cached([CachedDataset(cached, np.zeros((4, 7), dtype=np.float32))[i] for i in range(4)])
    stack = TopStack(classifier, 2).eval()
    with torch.no_grad():
        from_cache = stack(batch["hidden"], batch["attention_mask"])["logits"].numpy()
    full = batched_logits(classifier, tokenizer, TEXTS, 48)
    np.testing.assert_allclose(from_cache, full, atol=2e-2)  # activations are cached in float16


def test_only_the_top_layers_and_head_are_trainable(backbone: tuple[Path, Path]) -> None:
    classifier = build_classifier(backbone[0], 7, Adaptation(top_layers=1))
    trainable = {name.split(".")[0:4][-1] if "layer." in name else name.split(".")[0] for name, p in
                 classifier.named_parameters() if p.requires_grad}  # fmt: skip
    assert trainable == {"2", "head"}


def test_positive_weights_favour_rare_labels() -> None:
    targets = np.array([[1, 0], [1, 0], [1, 1], [0, 0]], dtype=np.float32)
    weights = positive_weights(targets)
    assert weights[0] == pytest.approx(1.0) and weights[1] == pytest.approx(np.sqrt(3.0))


def test_lora_recipe_trains_and_reloads(backbone: tuple[Path, Path], tmp_path: Path) -> None:
    directory, source = backbone
    config = TrainConfig(
        data=[_tiny_corpus(tmp_path / "c.jsonl")], output_dir=tmp_path / "lora", method="lora", epochs=1, batch_size=8
    )
    model_dir = train_model(config, directory.parent.parent, source)
    predictor = Predictor.load(model_dir, directory.parent.parent, source)
    assert predictor.metadata.adaptation.method == "lora"
    assert len(predictor.predict(["ok ok"])) == 1


def test_config_file_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 2\nmethod: lora\n")
    config = load_config(path, ["epochs=5", "data=[a.jsonl, b]"])
    assert config.epochs == 5 and config.method == "lora" and config.data == [Path("a.jsonl"), Path("b")]
    with pytest.raises(ValueError, match="key=value"):
        load_config(path, ["epochs"])
    with pytest.raises(ValueError, match="unknown_key"):
        load_config(path, ["unknown_key=1"])
