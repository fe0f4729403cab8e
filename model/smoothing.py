"""SmoothQuant for the int8 export: move the outlier channels of layer-norm outputs from activations into weights.

The int8 matmuls quantise each activation tensor with one scale. A layer-norm output has a few channels far wider
than the rest, so one scale wastes most of the int8 range on them and the other channels lose precision. For a
matmul `X @ W` fed by a layer norm, each input channel j is divided by s_j and row j of W multiplied by it, which
computes the same product: s_j = max|X_j| ** ALPHA / max|W_j| ** (1 - ALPHA) (Xiao et al., 2023, "SmoothQuant").

In a post-norm BERT a layer-norm output is also the residual, so the division cannot be folded into the norm: it
is an explicit `Mul` in front of the matmul. The activation ranges are measured on the fused float graph itself,
fed random token sequences: the outlier channels are a property of the network, not of particular texts, so the
export needs no data besides the model directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

ALPHA = 0.5
"""How much of the range moves into the weights: 0.5 splits it evenly."""
PROBE_ROWS = 32
"""Random token sequences (short ones and ones of the longest length, with padding) measure the activation ranges."""
SHORT_PROBE = 16
LAYER_NORMS = ("LayerNormalization", "SkipLayerNormalization")


def smooth_graph(source: Path, destination: Path, vocab_size: int, max_length: int, seed: int = 0) -> int:
    """Write `source` with every attention and matmul that reads a layer-norm output smoothed; the count of them.

    `max_length` is the longest token sequence the graph will be fed."""
    import onnx

    model = onnx.load(str(source))
    graph = model.graph
    producers = {output: node.op_type for node in graph.node for output in node.output}
    weights = {initializer.name: initializer for initializer in graph.initializer}
    targets = [
        node
        for node in graph.node
        if node.op_type in ("Attention", "MatMul")
        and producers.get(node.input[0]) in LAYER_NORMS
        and node.input[1] in weights
    ]
    tensors = [node.input[0] for node in targets]
    ranges = _activation_ranges(model, tensors, vocab_size, (min(SHORT_PROBE, max_length), max_length), seed)
    target_names = {node.name for node in targets}
    smoothed_nodes = []
    for node in graph.node:
        if node.name in target_names:
            smoothed_nodes.append(_smooth(graph, node, weights[node.input[1]], ranges[node.input[0]]))
        smoothed_nodes.append(node)
    del graph.node[:]
    graph.node.extend(smoothed_nodes)
    onnx.save(model, str(destination))
    return len(targets)


def _smooth(graph: Any, node: Any, weight: Any, activation_max: np.ndarray) -> Any:
    """Scale the rows of `node`'s weight; return the `Mul` that divides its input, which must run just before it."""
    from onnx import helper, numpy_helper

    matrix = numpy_helper.to_array(weight)  # (input channels, output channels)
    scale = _scale(activation_max, np.abs(matrix).max(axis=1))
    weight.CopyFrom(numpy_helper.from_array((matrix * scale[:, None]).astype(np.float32), weight.name))
    divisor, smoothed = f"{node.name}/smooth_inverse_scale", f"{node.name}/smoothed_input"
    graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), divisor))
    multiply = helper.make_node("Mul", [node.input[0], divisor], [smoothed], name=f"{node.name}/smooth")
    node.input[0] = smoothed
    return multiply


def _scale(activation_max: np.ndarray, weight_max: np.ndarray) -> np.ndarray:
    activation_max, weight_max = np.maximum(activation_max, 1e-5), np.maximum(weight_max, 1e-5)
    return np.asarray(activation_max**ALPHA / weight_max ** (1 - ALPHA), dtype=np.float32)


def _activation_ranges(
    model: Any, tensors: list[str], vocab_size: int, lengths: tuple[int, int], seed: int
) -> dict[str, np.ndarray]:
    """Per-channel max |value| of `tensors` (graph-internal) of `model` over random padded token sequences."""
    import onnx
    import onnxruntime as ort

    outputs = model.graph.output
    own_outputs = len(outputs)
    known = {output.name for output in outputs}
    outputs.extend(onnx.helper.make_empty_tensor_value_info(name) for name in tensors if name not in known)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    del outputs[own_outputs:]  # the graph is written with its own outputs only
    rng = np.random.default_rng(seed)
    ranges: dict[str, np.ndarray] = {}
    for length in lengths:
        input_ids = rng.integers(4, vocab_size, size=(PROBE_ROWS // len(lengths), length), dtype=np.int64)
        attention_mask = np.ones_like(input_ids)
        for row, kept in enumerate(rng.integers(length // 4, length + 1, size=len(input_ids))):
            attention_mask[row, kept:] = 0
            input_ids[row, kept:] = 1
        values = session.run(tensors, {"input_ids": input_ids, "attention_mask": attention_mask})
        for name, value in zip(tensors, values, strict=True):
            widest = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            ranges[name] = np.maximum(ranges.get(name, widest), widest)
    return ranges
