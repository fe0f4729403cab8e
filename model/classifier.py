"""The classifier network: the E5 encoder, mean pooling and one logit per label; only its trained part is saved."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import BertModel

from model.bundle import TRAINED_WEIGHTS, Adaptation, ModelDirectoryError, ModelMetadata
from model.labels import ALL_LABELS


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors that are not padding (E5's pooling)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


class RowQuantizedEmbedding(nn.Module):
    """An embedding table stored as int8 codes with one float scale per row: a quarter of the memory of float32,
    and within 1/254 of each row's largest value (the exported model's 250k-word table)."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        scales = weight.detach().abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127
        self.codes: torch.Tensor
        self.scales: torch.Tensor
        self.register_buffer("codes", torch.round(weight.detach() / scales).to(torch.int8))
        self.register_buffer("scales", scales)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.codes[input_ids].float() * self.scales[input_ids]


def head_output(
    head: nn.Module,
    dropout: nn.Module,
    hidden: torch.Tensor,
    attention_mask: torch.Tensor,
    pos_weight: torch.Tensor,
    labels: torch.Tensor | None,
) -> dict[str, torch.Tensor]:
    """Logits of the mean-pooled tokens, and the weighted binary cross-entropy when labels are given."""
    logits = head(dropout(mean_pool(hidden, attention_mask)))
    output = {"logits": logits}
    if labels is not None:
        output["loss"] = nn.functional.binary_cross_entropy_with_logits(
            logits, labels.to(logits.dtype), pos_weight=pos_weight
        )
    return output


class TriageClassifier(nn.Module):
    """Encoder + mean pooling + a linear multi-label head; returns `{"logits", "loss"?}`."""

    def __init__(self, encoder: nn.Module, hidden_size: int, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_labels)
        self.pos_weight: torch.Tensor
        self.register_buffer("pos_weight", torch.ones(n_labels))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return head_output(self.head, self.dropout, hidden, attention_mask, self.pos_weight, labels)


def _freeze_below_top(encoder: BertModel, top_layers: int) -> None:
    for parameter in encoder.parameters():
        parameter.requires_grad = False
    for layer in encoder.encoder.layer[len(encoder.encoder.layer) - top_layers :]:
        for parameter in layer.parameters():
            parameter.requires_grad = True


def build_classifier(backbone_dir: Path, n_labels: int, adaptation: Adaptation) -> TriageClassifier:
    """A classifier on the converted backbone with only the adapted part trainable."""
    encoder: nn.Module = BertModel.from_pretrained(backbone_dir, add_pooling_layer=False, use_safetensors=True)
    assert isinstance(encoder, BertModel)
    hidden_size = encoder.config.hidden_size
    if adaptation.method == "top_layers":
        _freeze_below_top(encoder, adaptation.top_layers)
    else:
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(
            r=adaptation.lora_rank,
            lora_alpha=adaptation.lora_alpha,
            lora_dropout=adaptation.lora_dropout,
            target_modules=["query", "key", "value", "dense"],
        )
        encoder = get_peft_model(encoder, config)
    return TriageClassifier(encoder, hidden_size, n_labels)


def trained_state(model: TriageClassifier) -> dict[str, torch.Tensor]:
    """The parameters that training changed (adapters or top layers, and the head)."""
    return {name: p.detach().contiguous() for name, p in model.named_parameters() if p.requires_grad}


def save_trained(model: TriageClassifier, directory: Path) -> None:
    """Write only the trained parameters as safetensors."""
    save_file(trained_state(model), str(directory / TRAINED_WEIGHTS))


def load_trained(model: TriageClassifier, directory: Path) -> None:
    """Load trained parameters into a freshly built classifier; every trained parameter must be present, in shape."""
    state = load_file(str(directory / TRAINED_WEIGHTS))
    expected = {name: tensor.shape for name, tensor in trained_state(model).items()}
    if set(state) != set(expected):
        missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise ValueError(
            f"{directory}: trained weights do not fit the model (missing {missing[:3]}, extra {unexpected[:3]})"
        )
    misshapen = sorted(name for name, tensor in state.items() if tensor.shape != expected[name])
    if misshapen:
        raise ValueError(f"{directory}: trained weights have other shapes than the model's ({misshapen[:3]})")
    model.load_state_dict(state, strict=False)


def load_classifier(model_dir: Path, backbone_dir: Path, metadata: ModelMetadata) -> TriageClassifier:
    """The trained classifier of a model directory, in eval mode; `ModelDirectoryError` if its weights don't fit."""
    model = build_classifier(backbone_dir, len(ALL_LABELS), metadata.adaptation)
    try:
        load_trained(model, model_dir)
    except (ValueError, OSError, KeyError, SafetensorError) as exc:
        raise ModelDirectoryError(f"{model_dir}: cannot load weights: {exc}") from exc
    return model.eval()
