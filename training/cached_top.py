"""Top-layer fine-tuning over cached activations: the frozen lower layers run once per text, not once per epoch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import BertModel, Trainer
from transformers.masking_utils import create_bidirectional_mask
from transformers.trainer_pt_utils import LengthGroupedSampler

from model.classifier import TriageClassifier, head_output


def _bert(classifier: TriageClassifier) -> BertModel:
    encoder = classifier.encoder
    if not isinstance(encoder, BertModel):
        raise TypeError("cached top-layer training needs a plain BertModel encoder (method top_layers)")
    return encoder


class TopStack(nn.Module):
    """The classifier's trainable top layers and head, fed with hidden states entering the first of them.

    It shares its modules with the classifier, so training it trains the classifier itself."""

    def __init__(self, classifier: TriageClassifier, top_layers: int) -> None:
        super().__init__()
        encoder = _bert(classifier)
        self.config = encoder.config
        self.layers = nn.ModuleList(list(encoder.encoder.layer)[-top_layers:])
        self.dropout = classifier.dropout
        self.head = classifier.head
        self.pos_weight: torch.Tensor
        self.register_buffer("pos_weight", classifier.pos_weight)

    def forward(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=attention_mask)
        for layer in self.layers:
            hidden = layer(hidden, mask)
        return head_output(self.head, self.dropout, hidden, attention_mask, self.pos_weight, labels)


def cache_lower_layers(
    classifier: TriageClassifier,
    tokenizer: Any,
    input_ids: Sequence[list[int]],
    top_layers: int,
    batch_size: int = 32,
) -> list[np.ndarray]:
    """Per text, the (tokens x hidden) activations entering the first trainable layer, as float16."""
    encoder = _bert(classifier)
    entry = encoder.config.num_hidden_layers - top_layers
    order = sorted(range(len(input_ids)), key=lambda i: len(input_ids[i]))
    cached: list[np.ndarray] = [np.empty(0, dtype=np.float16)] * len(input_ids)
    was_training = encoder.training
    encoder.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = tokenizer.pad({"input_ids": [input_ids[i] for i in chunk]}, return_tensors="pt")
            states = encoder(**batch, output_hidden_states=True).hidden_states[entry]
            for row, index in enumerate(chunk):
                cached[index] = states[row, : len(input_ids[index])].to(torch.float16).numpy()
    encoder.train(was_training)
    return cached


class CachedDataset(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """Cached activations with their multi-hot targets."""

    def __init__(self, hidden: Sequence[np.ndarray], targets: np.ndarray) -> None:
        self.hidden = hidden
        self.targets = torch.from_numpy(targets)

    def __len__(self) -> int:
        return len(self.hidden)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"hidden": torch.from_numpy(self.hidden[index]), "labels": self.targets[index]}


def collate_cached(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Pad a batch of activations to its longest text and build the attention mask."""
    longest = max(item["hidden"].shape[0] for item in items)
    width = items[0]["hidden"].shape[1]
    hidden = torch.zeros(len(items), longest, width, dtype=torch.float32)
    mask = torch.zeros(len(items), longest, dtype=torch.long)
    for row, item in enumerate(items):
        length = item["hidden"].shape[0]
        hidden[row, :length] = item["hidden"].float()
        mask[row, :length] = 1
    return {"hidden": hidden, "attention_mask": mask, "labels": torch.stack([item["labels"] for item in items])}


class LengthGroupedTrainer(Trainer):
    """A Trainer whose batches group texts of similar length, using lengths known up front."""

    def __init__(self, *args: Any, lengths: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lengths = lengths

    def _get_train_sampler(self, train_dataset: Any = None) -> torch.utils.data.Sampler[int]:
        return LengthGroupedSampler(
            self.args.train_batch_size * self.args.gradient_accumulation_steps, lengths=self.lengths
        )
