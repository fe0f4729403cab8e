"""Text preparation shared by training and inference: normalisation, the E5 prefix, long-text handling."""

from __future__ import annotations

from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

E5_PREFIX = "query: "
"""E5 was trained with this prefix on every query-like input; applied here and nowhere else."""

_CEDILLA_TO_COMMA = str.maketrans({"ş": "ș", "Ş": "Ș", "ţ": "ț", "Ţ": "Ț"})


def normalize_text(text: str) -> str:
    """Romanian cedilla letters to comma-below, collapsed whitespace."""
    return " ".join(text.translate(_CEDILLA_TO_COMMA).split())


def head_tail(token_ids: list[int], budget: int, head_share: float = 0.5) -> list[int]:
    """Keep the start and the end of an over-long text: complaints state the problem first and the demand last."""
    if len(token_ids) <= budget:
        return token_ids
    head = int(budget * head_share)
    return token_ids[:head] + token_ids[len(token_ids) - (budget - head) :]


def encode_texts(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids (with <s> and </s>) of each prefixed, normalised text; long texts keep their head and tail."""
    prepared = [E5_PREFIX + normalize_text(t) for t in texts]
    bodies = tokenizer(prepared, add_special_tokens=False, verbose=False)["input_ids"]
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    return [[bos, *head_tail(ids, max_length - 2), eos] for ids in bodies]
