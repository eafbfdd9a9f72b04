"""Static sentence embeddings: the few lines that turn a phrase into a unit vector.

The vectors come from all-MiniLM-L6-v2, distilled by scripts/distill_encoder.py (model2vec) into
one row per word-piece token. Encoding a phrase is then: tokenize, look the rows up, average,
normalise. That keeps the pretrained model's sense of meaning ("puppy" is close to "dog") while
serving needs only numpy, tokenizers and safetensors, and costs microseconds per phrase.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

DATA = Path(__file__).parent / "data"


class StaticEncoder:
    """Mean-pooled static token embeddings, as model2vec computes them (without special tokens)."""

    def __init__(self, data_dir: Path = DATA) -> None:
        self.tokenizer = Tokenizer.from_file(str(data_dir / "encoder-tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.matrix = load_file(str(data_dir / "encoder.safetensors"))["embeddings"].astype(
            np.float32
        )
        self.dims = int(self.matrix.shape[1])
        unk = self.tokenizer.token_to_id("[UNK]")
        self.unk_id = -1 if unk is None else unk

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised row per text (zeros for a text with no known token)."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = [i for i in encoding.ids if i != self.unk_id]
            if ids:
                out[row] = self.matrix[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@lru_cache(maxsize=1)
def shared_encoder() -> StaticEncoder:
    """One encoder per process: loading the 15 MB matrix takes ~30 ms, so do it once."""
    return StaticEncoder()
