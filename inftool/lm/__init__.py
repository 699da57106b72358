"""Stage: one DSPy LM per agent role (`user`, `assistant`, `tools`, `judge`) from the recipe.

Backends: `embedded` (llama.cpp in-process, the offline default), `openai` (any
OpenAI-compatible server or fleet), `hf` (a local transformers checkpoint on CPU).
"""

from __future__ import annotations

import json
from pathlib import Path

from inftool.config import EmbeddedLMConfig, HFLMConfig, LMRolesConfig, OpenAILMConfig
from inftool.lm.dspy_lm import RoleLM
from inftool.lm.records import ChatRequest, ChatResult, LMCallError, ToolCall
from inftool.lm.runtime import RoleClient
from inftool.lm.toolcalls import parse_tool_calls

ROLES = ("user", "assistant", "tools", "judge")

__all__ = [
    "ROLES", "ChatRequest", "ChatResult", "LMCallError", "RoleClient", "RoleLM", "ToolCall",
    "build_client", "build_lms", "configure_cache", "parse_tool_calls", "usage_table", "write_usage",
]  # fmt: skip


def build_client(role: str, cfg: EmbeddedLMConfig | OpenAILMConfig | HFLMConfig, check: bool = True) -> RoleClient:
    """The role's backend; an unreachable endpoint is a UserError here, before any episode."""
    if isinstance(cfg, EmbeddedLMConfig):
        from inftool.lm.embedded import EmbeddedEngine

        return RoleClient(role, EmbeddedEngine(cfg))
    if isinstance(cfg, OpenAILMConfig):
        from inftool.lm.openai_compat import OpenAICompatClient

        client = OpenAICompatClient(cfg, role)
        if check:
            client.check_reachable()
        return RoleClient(role, client)
    from inftool.lm.hf import HFEngine

    return RoleClient(role, HFEngine(cfg))


def build_lms(lm_config: LMRolesConfig, roles: tuple[str, ...] = ROLES, check: bool = True) -> dict[str, RoleLM]:
    lms = {}
    for role in roles:
        cfg = getattr(lm_config, role)
        lms[role] = RoleLM(build_client(role, cfg, check), temperature=cfg.temperature, max_tokens=cfg.max_tokens)
    return lms


MEMORY_CACHE_ENTRIES = 20_000  # DSPy's default (1,000,000) holds ~4 answers per episode: a whole round in RAM
HISTORY_PER_OWNER = 100  # DSPy keeps 10,000 calls per LM and per module for inspect_history: ~20 kB per episode


def configure_cache(run_dir: Path) -> None:
    """DSPy's cache, on disk under the run dir (so a resumed run reuses its own answers), with a
    bounded in-memory layer and call history and no global trace: memory stays flat however long
    the round."""
    import dspy

    dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True, disk_cache_dir=str(run_dir / "lm_cache"),
                         memory_max_entries=MEMORY_CACHE_ENTRIES)  # fmt: skip
    # trace=None: DSPy otherwise appends every prediction with its inputs to a global trace (10,000
    # kept); nothing reads it outside an optimizer, and optimizers open their own trace context
    dspy.configure(max_history_size=HISTORY_PER_OWNER, trace=None)


def usage_table(lms: dict[str, RoleLM]) -> str:
    rows = [
        f"{'role':<10}{'backend':<34}{'calls':>7}{'failed':>7}{'retries':>8}"
        f"{'prompt tok':>11}{'compl tok':>10}{'mean s':>8}"
    ]
    for role, lm in lms.items():
        s = lm.client.stats
        mean = s.latency_s / s.calls if s.calls else 0.0
        name = lm.client.engine.name[:32]
        rows.append(
            f"{role:<10}{name:<34}{s.calls:>7}{s.failures:>7}{s.retries:>8}{s.prompt_tokens:>11}"
            f"{s.completion_tokens:>10}{mean:>8.2f}"
        )
    return "\n".join(rows)


def write_usage(lms: dict[str, RoleLM], run_dir: Path) -> Path:
    path = run_dir / "lm_usage.json"
    data = {role: {"backend": lm.client.engine.name, **lm.client.stats.as_dict()} for role, lm in lms.items()}
    path.write_text(json.dumps(data, indent=2))
    return path
