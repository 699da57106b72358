"""Scenario sampling: the kind mix from config weights, then tools per kind, all seeded.

- `multiple` adds 1 to 3 distractors (BFCL's mix, at most `distractors`): with probability
  `near_distractors` the domain's tools closest in topic to the target that still cannot serve it
  (BFCL's kind), otherwise random ones.
- `irrelevance` offers one tool that cannot serve the request: with probability `near_irrelevance`
  the domain's tool closest in topic that still cannot serve it (BFCL's kind: a BMI calculator for
  a triangle's area, a sculpture's creator for a stadium's capacity), otherwise another toolset's.
- `parallel_multiple` asks for 2 to 4 tools, all of them offered and only sometimes one more
  (`PARALLEL_MULTIPLE_UNUSED`, as BFCL).
- `contrast`: that share of the `single` and `multiple` items are twins (`TWINS`): a single asks for
  the tool an `irrelevance` item needed, now offered, so one operation's request is called where its
  tool is offered and refused where another is, or once for the tool a `parallel` item called
  several times; a multiple asks for one of the tools a `parallel_multiple` item called, among the
  same offered tools. In both count twins the request, not the tools offered, says how many calls to
  make.
- `multi_step` needs a chain where one tool's output feeds another's input, found by matching
  field names and types across the schemas.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from inftool.errors import UserError
from inftool.scenarios.records import KINDS, ChainLink, Scenario, ScenarioKind
from inftool.specs import Toolset, ToolSpec
from inftool.specs.curate import topic_text

NEAR_OVERLAP = 0.25  # topic-word Jaccard above which a same-domain tool might serve the request itself
# BFCL's parallel_multiple (200 items) asks for 2, 3 or 4 different functions (105, 68 and 19 items; at most 4
# calls in all but one) and offers a function it does not ask for in 22: our offer teaches "one tool is a decoy" only
# as often, or the model learns to leave one of the asked-for tools out.
PARALLEL_MULTIPLE_TOOLS = {2: 0.55, 3: 0.35, 4: 0.10}
PARALLEL_MULTIPLE_UNUSED = 0.11
# BFCL's multiple offers 2, 3 or 4 functions (79, 85 and 36 of 200 items) and asks for one: offered two alone, beside
# parallel_multiple's "call every tool offered", the model learned to call a near distractor as well (92 of 200 items).
MULTIPLE_DISTRACTORS = {1: 0.40, 2: 0.42, 3: 0.18}
# kind: the kinds it is a twin of. A single twin of a parallel item is the count's contrast: after SFT on untwinned
# items the policy called a BFCL simple item's function again with invented values on 98 of 400 items.
TWINS: dict[ScenarioKind, tuple[ScenarioKind, ...]] = {"single": ("irrelevance", "parallel"),
                                                        "multiple": ("parallel_multiple",)}  # fmt: skip


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _output_fields(tool: ToolSpec) -> dict[str, Any]:
    """Top-level fields of the tool's result (of its items, for a list result)."""
    schema = tool.output_schema or {}
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema = schema["items"]
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def find_chains(tools: Sequence[ToolSpec]) -> list[ChainLink]:
    """Pairs (A, B) where a field of A's result has the name (ignoring case and `_`) and type of
    a required `…id` argument of B, or A's result has an `id` and B takes `<thing>_id` where
    `thing` is in A's name. Indexed by argument name, so pools of many thousand tools stay fast."""
    by_argument: dict[str, list[tuple[ToolSpec, str, str]]] = {}
    for target in tools:
        props = target.parameters.get("properties", {})
        for arg in target.parameters.get("required", []):
            if isinstance(arg, str) and _norm(arg).endswith("id"):
                arg_schema = props.get(arg)  # real specs also hold `true` schemas and odd types
                arg_type = arg_schema.get("type", "string") if isinstance(arg_schema, dict) else "string"
                by_argument.setdefault(_norm(arg), []).append((target, arg, arg_type))
    id_arguments = [key for key in by_argument if len(key) > 2]
    links = []
    for source in tools:
        for field, field_schema in _output_fields(source).items():
            key = _norm(field)
            field_type = field_schema.get("type", "string") if isinstance(field_schema, dict) else "string"
            keys = [key] if key != "id" else [k for k in id_arguments if k[:-2] in _norm(source.name)] + ["id"]
            for candidate in keys:
                for target, arg, arg_type in by_argument.get(candidate, []):
                    if target.name != source.name and arg_type == field_type:
                        links.append(ChainLink(source=source.name, source_field=field, target=target.name,
                                               target_argument=arg))  # fmt: skip
    return links


def mix(weights: dict[str, float]) -> dict[ScenarioKind, float]:
    unknown = set(weights) - set(KINDS)
    if unknown:
        raise UserError(f"scenarios.weights: unknown kind(s) {sorted(unknown)} (allowed: {', '.join(KINDS)})")
    total = sum(max(0.0, w) for w in weights.values())
    if total <= 0:
        raise UserError("scenarios.weights: at least one kind needs a weight above 0")
    return {k: max(0.0, weights.get(k, 0.0)) / total for k in KINDS if weights.get(k, 0.0) > 0}


def kinds_for(n: int, weights: dict[str, float], rng: random.Random) -> list[ScenarioKind]:
    """Largest-remainder apportionment, so small runs still cover every weighted kind."""
    shares = mix(weights)
    exact = {k: n * w for k, w in shares.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    kinds = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(kinds)
    return kinds


def topic_words(tool: ToolSpec) -> frozenset[str]:
    return frozenset(topic_text(tool).split())


def _overlaps(needed: ToolSpec, tools: Sequence[ToolSpec],
              topics: Sequence[frozenset[str]] | None) -> list[tuple[float, ToolSpec]]:  # fmt: skip
    mine = topic_words(needed)
    out = []
    for tool, theirs in zip(tools, topics if topics is not None else map(topic_words, tools), strict=True):
        union = mine | theirs
        if tool.name != needed.name and union:
            out.append((len(mine & theirs) / len(union), tool))
    return out


def unfit_neighbours(needed: ToolSpec, tools: Sequence[ToolSpec],
                     topics: Sequence[frozenset[str]] | None = None) -> list[ToolSpec]:  # fmt: skip
    """Tools of `needed`'s domain whose topic words overlap its own at most `NEAR_OVERLAP`
    (Jaccard): close enough to tempt a call, too far to serve the request. `topics`: the tools'
    topic words, in order, when the caller keeps them (a curated domain holds thousands of tools)."""
    return [tool for overlap, tool in _overlaps(needed, tools, topics) if overlap <= NEAR_OVERLAP]


def nearest_unfit(needed: ToolSpec, tools: Sequence[ToolSpec], topics: Sequence[frozenset[str]] | None = None,
                  k: int = 8) -> list[ToolSpec]:  # fmt: skip
    """The `k` tools sharing most topic words with `needed` that still cannot serve its request
    (overlap above 0, at most `NEAR_OVERLAP`), closest first: BFCL's kind of distractor
    (`us_history_population_by_state_year` beside `us_economy_gdp_by_state_year`)."""
    near = [(overlap, tool) for overlap, tool in _overlaps(needed, tools, topics) if 0 < overlap <= NEAR_OVERLAP]
    near.sort(key=lambda pair: -pair[0])  # stable: ties keep the domain's order, so a seed gives one draw
    return [tool for _, tool in near[:k]]


class ScenarioSampler:
    def __init__(self, toolsets: Sequence[Toolset], distractors: int = 2, seed: int = 0, personas: Sequence[str] = (),
                 prefix: str = "s", near_irrelevance: float = 0.0, near_distractors: float = 0.0,
                 contrast: float = 0.0):  # fmt: skip
        self.toolsets = [ts for ts in toolsets if ts.tools]
        if not self.toolsets:
            raise UserError("scenarios: no toolset has any tool to sample from")
        self.distractors = distractors
        self.near_irrelevance, self.near_distractors = near_irrelevance, near_distractors
        self.contrast = contrast
        self.topics: dict[str, list[frozenset[str]]] = {}  # toolset -> its tools' topic words, computed once
        self.seed = seed
        self.prefix = prefix  # scenario ids: PREFIX{seed}-{index}
        self.personas = list(personas) or ["a busy professional"]
        self.chains = {ts.name: find_chains(ts.tools) for ts in self.toolsets}

    def sample(
        self, n: int, weights: dict[str, float], domain_weights: dict[str, float] | None = None
    ) -> list[Scenario]:
        """`n` scenarios, kinds apportioned by `weights`; toolsets (domains) uniform, or drawn by
        `domain_weights` (the gap report's next mix; a domain it does not name keeps weight 1)."""
        rng = random.Random(self.seed)
        domains = [max(0.0, (domain_weights or {}).get(ts.name, 1.0)) for ts in self.toolsets]
        if domain_weights and sum(domains) <= 0:
            raise UserError("domain weights: at least one toolset needs a weight above 0")
        kinds, domains_or_none = kinds_for(n, weights, rng), domains if domain_weights else None
        if not self.contrast:
            return [self.one(kind, index, rng, domains_or_none) for index, kind in enumerate(kinds)]
        # the other kinds first, so every single or multiple may find an item to be the twin of
        drawn = {i: self.one(kind, i, rng, domains_or_none) for i, kind in enumerate(kinds) if kind not in TWINS}
        sources = {kind: [s for s in drawn.values() if s.kind in of] for kind, of in TWINS.items()}
        for index, kind in enumerate(kinds):
            if kind in TWINS:
                source = sources[kind].pop(0) if sources[kind] and rng.random() < self.contrast else None
                drawn[index] = self.twin(source, index, rng) if source else self.one(kind, index, rng, domains_or_none)
        return [drawn[i] for i in range(len(kinds))]

    def scenario_id(self, index: int) -> str:
        return f"{self.prefix}{self.seed}-{index:05d}"

    def twin(self, source: Scenario, index: int, rng: random.Random) -> Scenario:
        """An irrelevance item's twin: a single asking for the tool it needed, offered. A parallel
        item's: a single asking for its tool once. A parallel_multiple item's: a multiple asking for
        one of its targets among its offered tools. Each draws its own values (a new seed), so no
        request repeats."""
        if source.kind == "irrelevance":
            assert source.irrelevant_tool is not None
            kind, target, offered = "single", source.irrelevant_tool, [source.irrelevant_tool]
        elif source.kind == "parallel":
            kind, target, offered = "single", source.tool(source.targets[0]), list(source.offered)
        else:
            kind, target = "multiple", source.tool(rng.choice(source.targets))
            offered = rng.sample(source.offered, len(source.offered))
        return Scenario(id=self.scenario_id(index), kind=kind, toolset=source.toolset,
                        domain=source.domain, persona=rng.choice(self.personas), seed=rng.randrange(2**31),
                        offered=offered, targets=[target.name], calls_per_target=[1])  # fmt: skip

    def one(self, kind: ScenarioKind, index: int, rng: random.Random, domains: list[float] | None = None) -> Scenario:
        toolset = rng.choices(self.toolsets, weights=domains)[0] if domains else rng.choice(self.toolsets)
        if kind == "multi_step" and not self.chains[toolset.name]:
            with_chains = [ts for ts in self.toolsets if self.chains[ts.name]]
            if not with_chains:
                kind = "multi_turn"  # no chain anywhere in the pool: the closest kind
            else:
                toolset = rng.choice(with_chains)
        if kind == "irrelevance" and len(self.toolsets) == 1 and len(toolset.tools) < 2:
            kind = "single"
        base = {"id": self.scenario_id(index), "kind": kind, "toolset": toolset.name,
                "domain": toolset.name, "persona": rng.choice(self.personas), "seed": rng.randrange(2**31)}  # fmt: skip
        return Scenario(**base, **getattr(self, f"_{kind}")(toolset, rng))

    def _others(self, toolset: Toolset, exclude: set[str], rng: random.Random, k: int) -> list[ToolSpec]:
        pool = [t for t in toolset.tools if t.name not in exclude]
        return rng.sample(pool, min(k, len(pool)))

    def _topics(self, toolset: Toolset) -> list[frozenset[str]]:
        if toolset.name not in self.topics:
            self.topics[toolset.name] = [topic_words(t) for t in toolset.tools]
        return self.topics[toolset.name]

    def _with_distractors(
        self, targets: list[ToolSpec], toolset: Toolset, rng: random.Random, k: int, near: bool = False
    ) -> list[ToolSpec]:
        """`targets` and `k` other tools of the domain, shuffled; with `near` (drawn with probability
        `near_distractors`) the others are among the ones closest in topic to the first target
        that cannot serve any target's request, then random ones if too few are."""
        taken = {t.name for t in targets}
        others: list[ToolSpec] = []
        if near and self.near_distractors and rng.random() < self.near_distractors:
            close = nearest_unfit(targets[0], toolset.tools, self._topics(toolset), 2 * k + 2)
            for other in targets[1:]:  # nor any other target's
                close = unfit_neighbours(other, close)
            others = rng.sample(close, min(k, len(close)))
        taken |= {t.name for t in others}
        offered = targets + others + self._others(toolset, taken, rng, k - len(others))
        rng.shuffle(offered)
        return offered

    def _single(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        tool = rng.choice(toolset.tools)
        return {"offered": [tool], "targets": [tool.name], "calls_per_target": [1]}

    def _parallel(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        tool = rng.choice(toolset.tools)
        return {"offered": [tool], "targets": [tool.name], "calls_per_target": [rng.choice([2, 2, 3, 4])]}

    def _multiple(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        """BFCL's kind: one tool asked for among 2-4 offered (at most `distractors` beside it)."""
        tool = rng.choice(toolset.tools)
        counts = [k for k in MULTIPLE_DISTRACTORS if k <= self.distractors]
        k = rng.choices(counts, weights=[MULTIPLE_DISTRACTORS[c] for c in counts])[0] if counts else 0
        offered = self._with_distractors([tool], toolset, rng, k, near=True)
        return {"offered": offered, "targets": [tool.name], "calls_per_target": [1]}

    def _parallel_multiple(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        """BFCL's kind: several tools, each asked for once or twice, and (mostly) every tool offered is used."""
        n = rng.choices(list(PARALLEL_MULTIPLE_TOOLS), weights=list(PARALLEL_MULTIPLE_TOOLS.values()))[0]
        targets = rng.sample(toolset.tools, min(n, len(toolset.tools)))
        counts = [1] * len(targets)
        if len(targets) == 2:  # 4 calls at most: two tools may both be asked for twice, of three tools one
            counts = rng.choice([[1, 1], [1, 2], [2, 1], [2, 2]])
        elif len(targets) == 3 and rng.random() < 0.2:  # BFCL: 15 of its 68 three-function items
            counts[rng.randrange(3)] = 2
        unused = int(bool(self.distractors) and rng.random() < PARALLEL_MULTIPLE_UNUSED)
        offered = self._with_distractors(targets, toolset, rng, unused, near=bool(unused))
        return {"offered": offered, "targets": [t.name for t in targets], "calls_per_target": counts}

    def _irrelevance(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        needed, k = rng.choice(toolset.tools), 1  # BFCL's irrelevance offers one function (240 of 240 items)
        others = [t for ts in self.toolsets if ts.name != toolset.name for t in ts.tools]
        if not others or (self.near_irrelevance and rng.random() < self.near_irrelevance):
            topics = self._topics(toolset)
            others = (nearest_unfit(needed, toolset.tools, topics, 2 * k + 2)
                      or unfit_neighbours(needed, toolset.tools, topics) or others)  # fmt: skip
        if not others:  # one toolset of near-identical tools: whatever else it has
            others = [t for t in toolset.tools if t.name != needed.name]
        offered = rng.sample(others, min(k, len(others)))
        return {"offered": offered, "targets": [needed.name], "calls_per_target": [0], "irrelevant_tool": needed}

    def _multi_step(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        link = rng.choice(self.chains[toolset.name])
        source, target = toolset.tool(link.source), toolset.tool(link.target)
        offered = self._with_distractors([source, target], toolset, rng, 1)
        return {"offered": offered, "targets": [source.name, target.name], "calls_per_target": [1, 1], "chain": link}

    def _multi_turn(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        targets = rng.sample(toolset.tools, min(2, len(toolset.tools)))
        offered = self._with_distractors(targets, toolset, rng, 1)
        return {"offered": offered, "targets": [t.name for t in targets], "calls_per_target": [1] * len(targets)}

    def _clarify(self, toolset: Toolset, rng: random.Random) -> dict[str, Any]:
        candidates = [t for t in toolset.tools if t.parameters.get("required")] or toolset.tools
        tool = rng.choice(candidates)
        required = tool.parameters.get("required", [])
        missing = rng.choice(required) if required else None
        return {"offered": [tool], "targets": [tool.name], "calls_per_target": [1], "missing_argument": missing}
