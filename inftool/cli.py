"""The `inftool` command: check the command line, then hand it to the Hydra app.

inftool                               run the default recipe (quickstart)
inftool recipe=NAME key=value         run a recipe with overrides
inftool -m recipe=NAME seed=1,2       sweep
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # DSPy's litellm: no price-list download offline

from inftool.errors import UserError
from inftool.recipes import Invocation, list_group_options, list_recipes, parse_argv, precheck
from inftool.redaction import install_log_redaction, redact_known

GROUPS = {
    "recipe": "a complete, shareable run (recipes/NAME.yaml; add yours with --config-dir DIR)",
    "lm": "the LM behind one role: lm@lm.user|assistant|tools|judge=OPTION",
    "agents": "the three role-playing agents (DSPy modules) and their arguments",
    "scenarios": "the scenario-kind mix (weights), distractors, near_irrelevance, near_distractors, contrast, personas",
    "engine": "where episodes run: local (this process) | ray (sharded over Ray workers; $RAY_ADDRESS for a cluster)",
    "gates": "the verification chain (order, on/off, thresholds) and the gated-reward weights",
    "data": "the store's shard size and the exports written after synthesis",
    "trainer": "how the round trains the policy: TRL on the CPU, or an OpenRLHF job folder for Ray",
    "eval": "BFCL categories (non-live, live, multi_turn), items per category, steps per multi-turn turn",
    "loop": "rounds, stages (optimize synthesize train eval reweight), held-out set, gap re-weighting",
    "optimize": "the DSPy optimizer (BootstrapFewShot, GEPA, MIPROv2), agents to compile, where to save",
    "curation": "large pools: embed, cluster into domains, merge near-duplicates (off by default)",
}
KEYS = {
    "mode": "run (the loop: rounds of synthesize, train, eval, reweight) | ingest | serve (MCP) | eval (BFCL only)",
    "seed": "seed for every sampler and LM",
    "toolsets": "NAME: {path: spec file or folder, format: auto|openapi|openai|bfcl|mcp}",
    "synthesis": "episodes, concurrency, max_turns, max_calls, policy (always | auto: GRPO rounds only | never)",
    "toolset, port": "serve mode: inftool mode=serve toolset=NAME port=N (serve.transport=http|stdio)",
    "safety": "command line only: allow_targets (extra exact `_target_` names), allow_mcp_command=true",
}


def help_text(argv: list[str]) -> str:
    config_dirs = parse_argv(argv).config_dirs
    recipes = list_recipes(config_dirs)
    width = max(len(n) for n in [*recipes, *GROUPS, *KEYS]) + 2
    lines = [
        "inftool: verified tool-use training data from raw API specs, and the loop that trains on it.",
        "",
        "usage: inftool [recipe=NAME] [KEY=VALUE ...]     run a recipe (default: quickstart)",
        "       inftool -m recipe=NAME KEY=A,B            sweep (Hydra multirun)",
        "       inftool --config-dir DIR recipe=MINE      run a recipe from your own folder (DIR/recipe/MINE.yaml)",
        "       inftool --cfg job [overrides]             print the composed config and exit",
        "",
        "recipes (recipe=NAME):",
        *(f"  {name:<{width}}{text}" for name, text in recipes.items()),
        "",
        "config groups (GROUP=OPTION):",
        *(
            f"  {g:<{width}}{GROUPS[g]}" + (f"  [{' | '.join(list_group_options(g))}]" if g != "recipe" else "")
            for g in GROUPS
        ),
        "",
        "top-level keys (KEY=VALUE, dotted for nested keys: synthesis.episodes=3):",
        *(f"  {k:<{width}}{v}" for k, v in KEYS.items()),
        "",
        "Hydra's own flags: inftool --hydra-help",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--help" in argv or "-h" in argv:
        print(help_text(argv))
        return
    passthrough = {"--hydra-help", "--version", "--info", "-i", "--shell-completion", "-sc"}
    try:
        if not passthrough.intersection(argv):
            argv = hydra_argv(precheck(argv))
    except UserError as exc:
        print(f"inftool: error: {redact_known(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    from inftool.app import hydra_app

    sys.argv = [str(Path(sys.argv[0]).name or "inftool"), *argv]
    hydra_app()


def hydra_argv(inv: Invocation) -> list[str]:
    """The command line Hydra gets: the checked overrides in their final form, with secrets
    masked in every log line from here on (Hydra's `-m` job lines included)."""
    install_log_redaction(inv.secrets)
    return [*inv.flags, *inv.hydra_overrides()]
