"""`triage train`: fine-tune the classifier with transformers' Trainer, calibrate on dev, save a model directory."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import datasets
import numpy as np
import torch
from transformers import DataCollatorWithPadding, PreTrainedTokenizerFast, Trainer, TrainingArguments, set_seed

from model.backbone import ensure_backbone, source_sha256
from model.bundle import ModelMetadata
from model.calibration import LabelCalibration, calibrate
from model.classifier import Adaptation, TriageClassifier, build_classifier, save_trained
from model.export import export_model
from model.labels import ALL_LABELS, label_vector
from model.langid import LanguageDetector
from model.predictor import batched_logits
from model.text import encode_texts
from training.cached_top import CachedDataset, LengthGroupedTrainer, TopStack, cache_lower_layers, collate_cached
from training.config import TrainConfig
from training.corpus import CorpusRecord, corpus_files, read_records

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """The records a run learns from (train) and calibrates on (dev), plus their fingerprint."""

    train: list[CorpusRecord]
    dev: list[CorpusRecord]
    files: list[Path]

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for record in sorted(self.train + self.dev, key=lambda r: r.id):
            digest.update(record.model_dump_json().encode("utf-8"))
        return digest.hexdigest()

    def summary(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "files": [str(p) for p in self.files],
            "train_records": len(self.train),
            "dev_records": len(self.dev),
        }


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given, folders replaced by the JSONL files under them."""
    found: list[Path] = []
    for path in paths:
        found.extend(corpus_files(path) if path.is_dir() else [path])
    return found


def load_training_data(config: TrainConfig) -> TrainingData:
    files = expand_paths(config.data)
    records = read_records(files, CorpusRecord)
    train = [r for r in records if r.split == "train" and (config.include_augmented or not r.augmented)]
    dev = [r for r in records if r.split == "dev" and not r.augmented]
    if not train or not dev:
        raise ValueError(f"need train and dev records; found {len(train)} train and {len(dev)} dev in {files}")
    return TrainingData(train, dev, files)


def targets_of(records: Sequence[CorpusRecord]) -> np.ndarray:
    return np.array([label_vector(r.costs, r.abuse_risk, r.churn, r.is_complaint) for r in records], dtype=np.float32)


def positive_weights(targets: np.ndarray) -> torch.Tensor:
    """sqrt(negatives / positives) per label, in [1, 10]: rare labels count more without swamping the loss."""
    positives = targets.sum(axis=0).clip(min=1.0)
    negatives = len(targets) - positives
    return torch.tensor(np.sqrt(negatives / positives).clip(1.0, 10.0), dtype=torch.float32)


def _optimizer(model: TriageClassifier, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters; the freshly initialised head learns `head_lr_multiplier` times faster."""
    head = [p for p in model.head.parameters() if p.requires_grad]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    return torch.optim.AdamW(
        [
            {"params": body, "lr": config.learning_rate},
            {"params": head, "lr": config.learning_rate * config.head_lr_multiplier},
        ],
        weight_decay=config.weight_decay,
    )


def _trainer(
    model: TriageClassifier,
    tokenizer: PreTrainedTokenizerFast,
    train: Sequence[CorpusRecord],
    config: TrainConfig,
    args: TrainingArguments,
) -> Trainer:
    """A Trainer over the model's trainable part: cached lower-layer activations for top-layer training,
    token ids through the whole encoder for LoRA."""
    optimizer = _optimizer(model, config)
    input_ids = encode_texts(tokenizer, [r.text for r in train], config.max_length)
    if config.method == "top_layers":
        hidden = cache_lower_layers(model, tokenizer, input_ids, config.top_layers)
        return LengthGroupedTrainer(
            model=TopStack(model, config.top_layers),
            args=args,
            train_dataset=CachedDataset(hidden, targets_of(train)),
            data_collator=collate_cached,
            optimizers=(optimizer, None),
            lengths=[len(ids) for ids in input_ids],
        )
    dataset = datasets.Dataset.from_dict({"input_ids": input_ids, "labels": targets_of(train).tolist()})
    return LengthGroupedTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
        optimizers=(optimizer, None),
        lengths=[len(ids) for ids in input_ids],
    )


def _language_texts(config: TrainConfig, train: Sequence[CorpusRecord]) -> tuple[list[str], list[str]]:
    texts = [r.text for r in train]
    languages: list[str] = [r.lang for r in train]
    for path in config.langid_extra:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
                languages.append("other")
    return texts, languages


def train_model(config: TrainConfig, cache_dir: Path, backbone_file: Path | None = None) -> Path:
    """Run the whole recipe and return the written model directory."""
    started = time.perf_counter()
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    set_seed(config.seed)
    data = load_training_data(config)
    log.info("training on %d records, calibrating on %d", len(data.train), len(data.dev))

    backbone_dir = ensure_backbone(cache_dir, backbone_file)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(backbone_dir)
    adaptation = Adaptation(method=config.method, top_layers=config.top_layers, lora_rank=config.lora_rank)
    model = build_classifier(backbone_dir, len(ALL_LABELS), adaptation)
    model.pos_weight.copy_(positive_weights(targets_of(data.train)))

    output_dir = config.output_dir
    checkpoints = output_dir / "checkpoints"
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=config.batch_size,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,
        lr_scheduler_type="linear",
        logging_steps=10,
        save_strategy="epoch",
        save_total_limit=1,
        seed=config.seed,
        data_seed=config.seed,
        label_names=["labels"],
        dataloader_num_workers=0,
        report_to=[],
    )
    trainer = _trainer(model, tokenizer, data.train, config, args)
    resume = config.resume and checkpoints.is_dir() and any(checkpoints.glob("checkpoint-*"))
    outcome = trainer.train(resume_from_checkpoint=True if resume else None)

    calibration = _calibrate_on_dev(model, tokenizer, data.dev, config.max_length)
    texts, languages = _language_texts(config, data.train)
    detector = LanguageDetector.fit(texts, languages)

    output_dir.mkdir(parents=True, exist_ok=True)
    save_trained(model, output_dir)
    detector.save(output_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    ModelMetadata(
        version=f"{stamp}-{data.sha256[:8]}",
        adaptation=adaptation,
        max_length=config.max_length,
        backbone_sha256=source_sha256(backbone_dir),
        calibration=calibration,
        training_data={
            **data.summary(),
            "config": json.loads(config.model_dump_json()),
            "training_seconds": round(time.perf_counter() - started, 1),
            "trainer_seconds": round(outcome.metrics["train_runtime"], 1),
            "optimizer_steps": outcome.global_step,
            "torch_threads": torch.get_num_threads(),
        },
    ).save(output_dir)
    shutil.rmtree(checkpoints, ignore_errors=True)
    log.info("model written to %s", output_dir)
    log.info("int8 ONNX model built into %s", export_model(output_dir, cache_dir, backbone_file))
    return output_dir


def _calibrate_on_dev(
    model: TriageClassifier, tokenizer: PreTrainedTokenizerFast, dev: Sequence[CorpusRecord], max_length: int
) -> dict[str, LabelCalibration]:
    logits = batched_logits(model, tokenizer, [r.text for r in dev], max_length)
    targets = targets_of(dev)
    return {name: calibrate(logits[:, i], targets[:, i]) for i, name in enumerate(ALL_LABELS)}
