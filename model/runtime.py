"""Inference engines (int8 ONNX Runtime, PyTorch) behind one interface, and length-sorted batching over them."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from model.classifier import TriageClassifier

BATCH_SIZE = 32
MAX_BATCH_TOKENS = 512
"""Padded tokens per batch: larger batches of long texts leave the CPU caches and run slower per text."""


class Engine(Protocol):
    """Maps a padded batch of token ids to one raw logit per label."""

    name: str

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """int64 (batch x length) ids and 0/1 mask in, float32 (batch x labels) logits out."""
        ...


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def default_threads() -> int:
    """The CPU cores this process may run on (intra-op threads of the engine)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OnnxEngine:
    """ONNX Runtime on the CPU, all graph optimisations on, a fixed number of intra-op threads."""

    name = "onnx-int8"

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        return np.asarray(self.session.run(["logits"], feeds)[0], dtype=np.float32)


class TorchEngine:
    """The PyTorch classifier in inference mode."""

    name = "torch"

    def __init__(self, model: TriageClassifier, threads: int | None = None) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.model = model.eval()

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            output = self.model(input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(attention_mask))
        return output["logits"].float().numpy()


def pad_batch(token_ids: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded int64 ids and attention mask of a batch."""
    length = max(len(ids) for ids in token_ids)
    input_ids = np.full((len(token_ids), length), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(token_ids), length), dtype=np.int64)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
    return input_ids, attention_mask


def length_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Indices grouped by similar length: at most `batch_size` texts and `max_tokens` padded tokens per batch."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if current and (len(current) == batch_size or (len(current) + 1) * lengths[index] > max_tokens):
            batches.append(current)
            current = []
        current.append(index)
    return [*batches, current] if current else batches


def engine_logits(
    engine: Engine,
    token_ids: Sequence[Sequence[int]],
    pad_id: int,
    n_labels: int,
    batch_size: int = BATCH_SIZE,
    max_tokens: int = MAX_BATCH_TOKENS,
) -> np.ndarray:
    """Raw logits (n_texts x n_labels), computed in batches of similar length so that little padding is run."""
    out = np.zeros((len(token_ids), n_labels), dtype=np.float32)
    for chunk in length_batches([len(ids) for ids in token_ids], batch_size, max_tokens):
        out[chunk] = engine.run(*pad_batch([token_ids[i] for i in chunk], pad_id))
    return out
