"""Static sentence embeddings: the few lines that turn a phrase into a unit vector.

The vectors come from all-MiniLM-L6-v2, distilled by scripts/distill_encoder.py (model2vec) into
one row per word-piece token. Encoding a phrase is then: tokenize, look the rows up, average,
normalise. That keeps the pretrained model's sense of meaning ("puppy" is close to "dog") while
serving needs only numpy and tokenizers, and costs microseconds per phrase.

Loading is cheap, for the sake of `gouache generate`'s cold start: the float16 matrix is
memory-mapped straight from the safetensors file (only the rows a phrase uses are read and
widened to float32), and the tokenizer is read on the first phrase. Encoding is thread-safe: the
matrix is read-only, the tokenizer is loaded once under a lock and only read afterwards.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .loading import filled_once

DATA = Path(__file__).parent / "data"
DTYPES = {"F16": np.float16, "F32": np.float32}


def mapped_tensor(path: Path, name: str) -> np.ndarray:
    """One tensor of a safetensors file as a read-only memory map. The format is an 8-byte
    little-endian header length, a JSON header (dtype, shape, byte offsets), then raw data."""
    with path.open("rb") as file:
        length = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(length))
    entry = header[name]
    start, _ = entry["data_offsets"]
    mapped = np.memmap(
        path,
        dtype=DTYPES[entry["dtype"]],
        mode="r",
        offset=8 + length + start,
        shape=tuple(entry["shape"]),
    )
    return np.asarray(mapped)  # a plain array view: np.memmap's subclass hooks cost on each use


class StaticEncoder:
    """Mean-pooled static token embeddings, as model2vec computes them (without special tokens)."""

    def __init__(self, data_dir: Path = DATA) -> None:
        self.data_dir = data_dir
        self.matrix = mapped_tensor(data_dir / "encoder.safetensors", "embeddings")
        self.dims = int(self.matrix.shape[1])
        self._tokenizer: Tokenizer | None = None
        self._loading = threading.Lock()
        self._unk_id = -1

    @property
    def tokenizer(self) -> Tokenizer:
        """The word-piece tokenizer, read on first use (about 20 ms), once however many threads
        ask at the same time."""
        if self._tokenizer is None:
            with self._loading:
                if self._tokenizer is None:
                    tokenizer = Tokenizer.from_file(str(self.data_dir / "encoder-tokenizer.json"))
                    tokenizer.no_truncation()
                    tokenizer.no_padding()
                    unk = tokenizer.token_to_id("[UNK]")
                    self._unk_id = -1 if unk is None else unk
                    self._tokenizer = tokenizer
        return self._tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised row per text (zeros for a text with no known token)."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = [i for i in encoding.ids if i != self._unk_id]
            if ids:
                out[row] = self.matrix[ids].astype(np.float32).mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@filled_once
def shared_encoder() -> StaticEncoder:
    """One encoder per process, so its memory map and tokenizer are shared."""
    return StaticEncoder()
