"""Writes a tiny, random E5S1 file of the real format, so tests can convert it without the real wheel."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
WORDS = ["▁", "▁жду", "▁деньги", "▁comanda", "▁banii", "▁поръчка", "▁не", "▁nu", "▁ok", "▁спасибо"]
ALPHABET = list("абвгдежзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnoprstuvzăâîșț0123456789.,!?")


def tiny_pieces() -> list[str]:
    """The fake vocabulary: specials, a few words, single characters, <mask>."""
    return [*SPECIALS, *WORDS, *ALPHABET, "<mask>"]


def _q4_blocks(values: np.ndarray) -> bytes:
    blocks = values.reshape(-1, 32).astype(np.float32)
    out = bytearray()
    for block in blocks:
        scale = float(np.abs(block).max()) / 7 or 1.0
        q = np.clip(np.round(block / scale) + 8, 0, 15).astype(np.uint8)
        out += np.float16(scale).tobytes()
        out += (q[:16] | (q[16:] << 4)).astype(np.uint8).tobytes()
    return bytes(out)


def write_fake_e5(path: Path, seed: int = 0, hidden: int = 32, layers: int = 2, ffn: int = 64) -> Path:
    """Write a random model of the given size in the E5S1 format and return `path`."""
    rng = np.random.default_rng(seed)
    pieces = tiny_pieces()
    vocab, max_pos, type_vocab, heads = len(pieces) + 4, 64, 2, 2  # vocab padded past the pieces, as in the real file
    header = b"E5S1" + struct.pack("<I7ifi", 1, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, 1e-12, 32)
    blob = "".join(pieces).encode()
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    scores = np.array([0.0] * 4 + [-float(i) / 10 for i in range(1, len(pieces) - 4)] + [0.0], dtype="<f4")
    tok = struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob)) + offsets.tobytes() + scores.tobytes() + blob
    norm_entries = [(0x1, []), (0x200B, [0x20]), (0xFB01, [0x66, 0x69])]
    norm = b"".join(struct.pack(f"<IB{len(o)}I", cp, len(o), *o) for cp, o in norm_entries)
    tok += struct.pack("<iI", len(norm_entries), len(norm)) + norm

    tensors: list[tuple[str, int, np.ndarray]] = [
        ("emb.word", 1, rng.normal(0, 0.5, (vocab, hidden))),
        ("emb.pos", 0, rng.normal(0, 0.1, (max_pos, hidden))),
        ("emb.type", 0, rng.normal(0, 0.1, (type_vocab, hidden))),
        ("emb.ln.w", 0, np.ones(hidden)),
        ("emb.ln.b", 0, np.zeros(hidden)),
    ]
    for layer in range(layers):
        for short, shape in [("q", (hidden, hidden)), ("k", (hidden, hidden)), ("v", (hidden, hidden)),
                             ("ao", (hidden, hidden)), ("fi", (ffn, hidden)), ("fo", (hidden, ffn))]:  # fmt: skip
            tensors.append((f"l{layer}.{short}.w", 1, rng.normal(0, 0.2, shape)))
            tensors.append((f"l{layer}.{short}.b", 0, rng.normal(0, 0.02, shape[0])))
        for short in ("aln", "oln"):
            tensors.append((f"l{layer}.{short}.w", 0, np.ones(hidden)))
            tensors.append((f"l{layer}.{short}.b", 0, np.zeros(hidden)))

    payloads = [_q4_blocks(v) if dtype == 1 else v.astype("<f4").tobytes() for _, dtype, v in tensors]
    directory_size = 4 + sum(2 + len(name.encode()) + 1 + 4 + 8 + 8 for name, _, _ in tensors)
    offset = len(header) + len(tok) + directory_size
    directory = struct.pack("<i", len(tensors))
    for (name, dtype, values), payload in zip(tensors, payloads, strict=True):
        directory += struct.pack("<H", len(name.encode())) + name.encode()
        directory += struct.pack("<BIQQ", dtype, values.size, offset, len(payload))
        offset += len(payload)
    path.write_bytes(header + tok + directory + b"".join(payloads))
    return path
