"""Near-duplicate gate at scale: 100,000 requests through DedupGate (MinHash LSH candidates, exact
Jaccard verdicts).

    python bench/dedup.py [--requests 100000] [--anchor 2000] [--threshold 0.9]

Requests are built from templates filled by Faker (names, cities, dates, amounts, free sentences:
60-300 characters, so requests of one template share many 4-grams), with a planted share: 8 %
near-duplicates of an earlier request (character edits or a dropped word, exact Jaccard >= the
threshold against their source) and 2 % exact ones (case and spacing changed). Target: <= 60 s
for 100,000 on 2 cores; recall >= 0.95 on the planted near-duplicates whose source was accepted.

Anchor: the old gate (an exact Jaccard scan over every accepted request) on the first `--anchor`
requests, timed and extrapolated to the full count (its work grows with the square: each request
scans every one accepted before it); on that prefix its verdicts are the exact reference the new
gate's recall and precision are measured against.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from pathlib import Path

from faker import Faker

from inftool.gates import DedupGate, GateChain
from inftool.gates.near_dup import jaccard, normalize, shingles
from inftool.rollout import Trajectory
from inftool.scenarios import Scenario

TEMPLATES = [
    "Can you book a flight from {city} to {city2} on {date} for {n} passengers? {sentence}",
    "Please transfer {amount} {currency} from account {account} to {name}'s account {account2}.",
    "What will the weather be like in {city} on {date}? {sentence}",
    "Send an email to {email} with the subject '{words}' and tell them that {sentence}",
    "I need a hotel room in {city} from {date} to {date2} for {n} nights, near {company}'s office.",
    "Convert {amount} {currency} to {currency2} at today's rate, and {sentence}",
    "Schedule a meeting with {name} and {name2} on {date} about {words}.",
    "Find me restaurants in {city} that are open after {hour} pm. {sentence} {sentence2}",
    "What's the balance of account {account}? {sentence}",
    "Create a task '{words}' due {date} and assign it to {name}.",
    "Look up the order {account} placed by {name} ({email}) and tell me when it ships.",
    "{sentence} Could you check the status of my booking {account} with {company}? {sentence2}",
]


def pools(seed: int, size: int = 3000) -> dict[str, list[str]]:
    fake = Faker()
    fake.seed_instance(seed)
    return {
        "city": [fake.city() for _ in range(size)],
        "name": [fake.name() for _ in range(size)],
        "company": [fake.company() for _ in range(size)],
        "email": [fake.email() for _ in range(size)],
        "date": [fake.date_this_year().isoformat() for _ in range(size)],
        "currency": [fake.currency_code() for _ in range(200)],
        "sentence": [fake.sentence(nb_words=random.Random(i).randint(4, 16)) for i in range(size)],
        "words": [" ".join(fake.words(nb=random.Random(i).randint(2, 6))) for i in range(size)],
    }


def fresh(rng: random.Random, pool: dict[str, list[str]]) -> str:
    pick = {key: rng.choice(values) for key, values in pool.items()}
    return rng.choice(TEMPLATES).format(
        **pick, city2=rng.choice(pool["city"]), name2=rng.choice(pool["name"]), date2=rng.choice(pool["date"]),
        currency2=rng.choice(pool["currency"]), sentence2=rng.choice(pool["sentence"]), n=rng.randint(1, 9),
        amount=f"{rng.uniform(5, 5000):.2f}", account=f"ACC-{rng.randint(0, 10**8):08d}",
        account2=f"ACC-{rng.randint(0, 10**8):08d}", hour=rng.randint(6, 11),
    )  # fmt: skip


def near(rng: random.Random, source: str, threshold: float) -> str | None:
    """A variant at exact 4-gram Jaccard in [threshold, 1) against `source`, or None."""
    base = shingles(normalize(source))
    for _ in range(20):
        if rng.random() < 0.3 and " " in source:
            words = source.split(" ")
            del words[rng.randrange(len(words))]
            variant = " ".join(words)
        else:
            chars = list(source)
            for position in rng.sample(range(len(chars)), rng.randint(1, 2)):
                chars[position] = rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
            variant = "".join(chars)
        if threshold <= jaccard(shingles(normalize(variant)), base) < 1:
            return variant
    return None


def build(count: int, threshold: float, seed: int = 0) -> tuple[list[str], dict[int, int]]:
    """(requests, planted near-duplicate index -> its source's index)."""
    rng, pool = random.Random(seed), pools(seed)
    requests: list[str] = []
    planted: dict[int, int] = {}
    for index in range(count):
        roll = rng.random()
        if index > 100 and roll < 0.08 and (variant := near(rng, requests[source := rng.randrange(index)], threshold)):
            planted[index] = source
            requests.append(variant)
        elif index > 100 and roll < 0.10:
            requests.append("  " + rng.choice(requests).upper())
        else:
            requests.append(fresh(rng, pool))
    return requests, planted


def episode(index: int, text: str) -> Trajectory:
    scenario = Scenario(id=f"d{index}", kind="single", toolset="x", domain="x", offered=[], targets=[])
    return Trajectory(id=scenario.id, scenario=scenario, messages=[{"role": "user", "content": text}])


class ScanGate:
    """The gate before MinHash LSH: exact Jaccard against every accepted request (the anchor)."""

    def __init__(self, threshold: float) -> None:
        self.threshold, self.exact, self.seen = threshold, set(), []

    def __call__(self, text: str) -> bool:
        """True when accepted (and remembered)."""
        digest = hashlib.sha1(text.lower().strip().encode()).hexdigest()
        if digest in self.exact:
            return False
        mine = shingles(normalize(text))
        if any(jaccard(mine, other) >= self.threshold for other in self.seen):
            return False
        self.exact.add(digest)
        self.seen.append(mine)
        return True


def rss_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--anchor", type=int, default=2000)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    requests, planted = build(args.requests, args.threshold)
    episodes = [episode(i, t) for i, t in enumerate(requests)]
    lengths = sorted(len(t) for t in requests)

    before = rss_mb()
    chain = GateChain([DedupGate(threshold=args.threshold)])
    start = time.perf_counter()
    accepted = [chain(traj).accepted for traj in episodes]
    seconds = time.perf_counter() - start
    index_mb = rss_mb() - before
    caught = [i for i, source in planted.items() if accepted[source]]
    recall = sum(not accepted[i] for i in caught) / max(1, len(caught))

    prefix = min(args.anchor, len(requests))
    scan = ScanGate(args.threshold)
    start = time.perf_counter()
    exact = [scan(t) for t in requests[:prefix]]
    scan_seconds = time.perf_counter() - start
    extrapolated = scan_seconds * (len(requests) / prefix) ** 2
    must_refuse = [i for i in range(prefix) if not exact[i]]
    sample_recall = sum(not accepted[i] for i in must_refuse) / max(1, len(must_refuse))
    false_refusals = sum(exact[i] and not accepted[i] for i in range(prefix))

    p10, p50, p90 = (lengths[len(lengths) * q // 10] for q in (1, 5, 9))
    rows = [
        ("requests (chars p10/p50/p90)", f"{len(requests):,} ({p10}/{p50}/{p90})"),
        ("planted near-duplicates / exact", f"{len(planted):,} / {sum(t.startswith('  ') for t in requests):,}"),
        ("accepted", f"{sum(accepted):,}"),
        ("wall s (DedupGate, MinHash LSH)", f"{seconds:.1f}  (target <= 60; ratio {seconds / 60:.2f}x)"),
        ("requests/s", f"{len(requests) / seconds:,.0f}"),
        ("index memory MB (RSS growth)", f"{index_mb:.0f}"),
        ("recall: planted near-dups refused", f"{recall:.4f}  ({len(caught):,} whose source was accepted; >= 0.95)"),
        (f"anchor: exact scan, first {prefix:,} s", f"{scan_seconds:.1f}"),
        (f"anchor extrapolated to {len(requests):,} s", f"~{extrapolated:,.0f}  (quadratic in the count)"),
        ("speed-up vs anchor (extrapolated)", f"{extrapolated / seconds:,.0f}x"),
        (f"recall vs exact scan on first {prefix:,}", f"{sample_recall:.4f}  ({len(must_refuse):,} it refused)"),
        (f"refused where exact accepts, first {prefix:,}", f"{false_refusals}  (precision is exact: must be 0)"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
