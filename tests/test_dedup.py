"""The dedup gate at scale: MinHash LSH candidates, exact Jaccard verdicts, against brute force on a planted set."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHash

from inftool.gates import DedupGate, GateChain
from inftool.gates.near_dup import NUM_PERM, NearDuplicateIndex, bands, jaccard, normalize, shingle_hashes, shingles
from inftool.rollout import Trajectory
from inftool.scenarios import Scenario

THRESHOLD = 0.9


def request(text: str, index: int = 0) -> Trajectory:
    scenario = Scenario(id=f"r{index}", kind="irrelevance", toolset="x", domain="x", offered=[], targets=[])
    return Trajectory(id=scenario.id, scenario=scenario, messages=[{"role": "user", "content": text}])


def planted(seed: int = 7) -> tuple[list[str], list[str], list[str]]:
    """(distinct requests, near-duplicates of some at Jaccard >= THRESHOLD, edits of others below it)."""
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(800)]
    bases = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 45))) for _ in range(400)]

    def edited(text: str, edits: int) -> str:
        chars = list(text)
        for position in rng.sample(range(len(chars)), edits):
            chars[position] = rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
        return "".join(chars)

    near, far = [], []
    for base in bases[:200]:
        variant = next(v for v in (edited(base, rng.randint(1, 3)) for _ in range(50))
                       if THRESHOLD <= jaccard(shingles(normalize(v)), shingles(normalize(base))) < 1)  # fmt: skip
        near.append(variant)
    for base in bases[200:300]:
        variant = next(v for v in (edited(base, rng.randint(3, 12)) for _ in range(50))
                       if 0.5 <= jaccard(shingles(normalize(v)), shingles(normalize(base))) < THRESHOLD)  # fmt: skip
        far.append(variant)
    return bases, near, far


def brute_force(accepted: list[set[str]], text: str) -> float:
    mine = shingles(normalize(text))
    return max((jaccard(mine, other) for other in accepted), default=0.0)


def test_lsh_recall_against_exact_jaccard_on_a_planted_set_and_no_refusal_below_threshold():
    bases, near, far = planted()
    stream = [*bases, *near, *far]
    random.Random(3).shuffle(stream)
    chain = GateChain([DedupGate(threshold=THRESHOLD)])
    exact_accepted: list[set[str]] = []  # the brute-force scan's own run over the same stream
    should_refuse = caught = 0
    far_refused = []
    for index, text in enumerate(stream):
        verdict = chain(request(text, index))
        refuse = brute_force(exact_accepted, text) >= THRESHOLD
        should_refuse += refuse
        caught += refuse and not verdict.accepted
        if not refuse:
            exact_accepted.append(shingles(normalize(text)))
        if not verdict.accepted and text in far:
            far_refused.append(text)
        if not verdict.accepted:  # precision is exact: every refusal is at >= threshold, reason says how close
            similarity = float(verdict.gates[0].reason.rsplit(" ", 1)[1].rstrip(")"))
            assert similarity >= THRESHOLD, verdict.gates[0].reason
    assert should_refuse >= 200  # each planted near-duplicate (and no far edit) is one the exact scan refuses
    assert caught / should_refuse >= 0.95
    assert far_refused == []  # edits below the threshold are never refused


def test_the_numpy_sketch_is_datasketchs_minhash_of_the_same_shingle_hashes():
    index = NearDuplicateIndex(THRESHOLD)
    text = normalize("Book a table for two at 7 pm in Lisbon, near the river, please")
    reference = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int)
    reference.update_batch(shingle_hashes(text))
    assert np.array_equal(index.sketch(text).hashvalues, reference.hashvalues)
    assert len(shingle_hashes(text)) == len(text) - 3 and len(shingle_hashes("ab")) == 1


def test_bands_catch_a_pair_at_the_threshold_with_high_probability():
    for threshold in (0.5, 0.8, 0.85, 0.9, 0.95):
        count, rows = bands(threshold)
        assert count * rows <= NUM_PERM and count >= 2
        assert 1 - (1 - threshold**rows) ** count >= 0.99


def test_a_gate_seeded_with_requests_refuses_their_duplicates():
    bases, near, _ = planted(seed=11)
    gate = DedupGate(threshold=THRESHOLD)
    for text in bases[:200]:  # what a resumed run or an earlier round accepted
        gate.remember_request(text)
    assert len(gate.index) == 200
    assert not gate(request(bases[0])).passed
    assert "exact duplicate" in gate(request(bases[0].upper())).reason
    refused = sum(not gate(request(text)).passed for text in near)
    assert refused / len(near) >= 0.95
    assert gate(request(bases[300])).passed
