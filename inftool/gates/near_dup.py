"""Near-duplicate requests at scale: MinHash LSH (datasketch) proposes candidates, the exact
character 4-gram Jaccard of the normalized texts decides, so a refusal is never an estimate.

Sketches are computed in numpy with the same arithmetic as datasketch's `affine32` MinHash fed
64-bit-folded 4-gram hashes (`MinHash.update` per shingle costs ~1 µs each in pure Python); the
LSH bands are chosen from the threshold so that a pair at exactly the threshold becomes a candidate
with probability >= `RECALL_AT_THRESHOLD`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

NUM_PERM = 64  # 9 bands of 7 rows at threshold 0.9; 128 halves false candidates at twice the cost
SEED = 1
SHINGLE = 4
RECALL_AT_THRESHOLD = 0.99
_SCHEME = "affine32"
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64)
_U32 = np.uint64(0xFFFFFFFF)


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def shingles(normalized: str, n: int = SHINGLE) -> set[str]:
    """Character n-grams of a normalized text (the whole text when shorter than n)."""
    return {normalized[i : i + n] for i in range(max(1, len(normalized) - n + 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def shingle_hashes(normalized: str) -> np.ndarray:
    """One uint32 per character 4-gram (a short text pads to one gram), deterministic across processes."""
    points = np.frombuffer(normalized.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if points.size < SHINGLE:
        points = np.concatenate([points, np.zeros(SHINGLE - points.size, dtype=np.uint64)])
    grams = points[:-3] * _MIX[0] + points[1:-2] * _MIX[1] + points[2:-1] * _MIX[2] + points[3:] * _MIX[3]
    return ((grams >> np.uint64(32)) ^ (grams & _U32)).astype(np.uint32)


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer: datasketch's `affine32` pre-mix of every input hash."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def bands(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows): the most rows per band (fewest false candidates) such that a pair at exactly
    `threshold` shares a band with probability >= RECALL_AT_THRESHOLD (1 - (1 - t^r)^b)."""
    for rows in range(num_perm // 2, 1, -1):
        count = num_perm // rows
        if 1 - (1 - threshold**rows) ** count >= RECALL_AT_THRESHOLD:
            return count, rows
    return num_perm, 1


class NearDuplicateIndex:
    """Texts added so far; `match(text)` is the earliest with exact 4-gram Jaccard >= threshold."""

    def __init__(self, threshold: float, num_perm: int = NUM_PERM, seed: int = SEED) -> None:
        self.threshold = threshold
        self.seed = seed
        self.permutations = MinHash(num_perm=num_perm, seed=seed, scheme=_SCHEME).permutations
        self.lsh = MinHashLSH(num_perm=num_perm, params=bands(threshold, num_perm))
        self.texts: list[str] = []  # normalized, by key: what the exact check compares against

    def sketch(self, normalized: str) -> LeanMinHash:
        """The MinHash of the text's 4-grams: min over grams of a*fmix32(h)+b mod 2^32, per permutation."""
        a, b = self.permutations
        values = (fmix32(shingle_hashes(normalized))[:, None] * a + b).min(axis=0)
        return LeanMinHash(seed=self.seed, hashvalues=values, scheme=_SCHEME)

    def match(self, normalized: str, sketch: LeanMinHash | None = None) -> tuple[int, float] | None:
        """(key, similarity) of the earliest added text at >= threshold, or None."""
        candidates = sorted(self.lsh.query(sketch if sketch is not None else self.sketch(normalized)))
        if not candidates:
            return None
        mine = shingles(normalized)
        for key in candidates:
            if (similarity := jaccard(mine, shingles(self.texts[key]))) >= self.threshold:
                return key, similarity
        return None

    def add(self, normalized: str, sketch: LeanMinHash | None = None) -> int:
        key = len(self.texts)
        self.lsh.insert(key, sketch if sketch is not None else self.sketch(normalized), check_duplication=False)
        self.texts.append(normalized)
        return key

    def extend(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.add(normalize(text))

    def __len__(self) -> int:
        return len(self.texts)
