"""`GatedReward`: one assistant decision scored against its label.

0 when the format or schema gate fails; otherwise `names` if the called functions are the
expected ones, plus `arguments` if, in addition, the arguments match (BFCL AST semantics). A
label that expects no call (irrelevance, or a text step) scores 1 for no call and 0 otherwise.
One implementation, used three ways: the local trainer (TRL), the generated OpenRLHF reward
file, and the generated OpenRLHF multi-turn agent file.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from inftool.gates.matcher import match_calls
from inftool.lm.toolcalls import parse_tool_calls
from inftool.specs import ToolSpec
from inftool.specs.schema import validation_error

_CALL_ATTEMPT = re.compile(r'<tool_call>|"tool_calls"|^\s*\[?\s*\{\s*"name"', re.MULTILINE)
_END_TOKENS = re.compile(r"<\|(?:im_end|eot_id|end|endoftext)\|>|</s>|<\|im_start\|>assistant\s*$")


def parse_label(label: str | dict[str, Any]) -> dict[str, Any]:
    data = json.loads(label) if isinstance(label, str) else label
    return {"calls": data.get("calls", []), "tools": data.get("tools", []), "kind": data.get("kind", "")}


def _tool(entry: dict[str, Any]) -> ToolSpec:
    fn = entry.get("function", entry)
    return ToolSpec(name=fn["name"], description=fn.get("description", ""), parameters=fn.get("parameters") or {})


class GatedReward:
    def __init__(self, names: float = 0.4, arguments: float = 0.6) -> None:
        self.names, self.arguments = names, arguments
        self.__name__ = "gated_reward"  # TRL logs reward functions by name

    def score_calls(self, calls: list[tuple[str, Any]], label: str | dict[str, Any], text: str = "") -> float:
        wanted = parse_label(label)
        if not calls and _CALL_ATTEMPT.search(text or ""):
            return 0.0  # format: a call was attempted but does not parse
        if any(not isinstance(args, dict) for _, args in calls):
            return 0.0  # format: arguments are not a JSON object
        if not wanted["calls"]:
            return 1.0 if not calls else 0.0
        if not calls:
            return 0.0
        tools = {t.name: t for t in map(_tool, wanted["tools"])}
        for name, args in calls:
            if name in tools and validation_error(tools[name], args):
                return 0.0  # schema
        expected_names = Counter(next(iter(c)) if "name" not in c else c["name"] for c in wanted["calls"])
        if Counter(name for name, _ in calls) != expected_names:
            return 0.0
        expected = [
            {c["name"]: {k: [v] for k, v in c.get("arguments", {}).items()}} if "name" in c else c
            for c in wanted["calls"]
        ]
        ordered = wanted["kind"] == "multi_step"
        return self.names + (self.arguments if match_calls(calls, expected, tools, ordered) is None else 0.0)

    def score_text(self, completion: str, label: str | dict[str, Any]) -> float:
        """Score raw decoded text of any chat template (Hermes/Qwen tags, JSON, Python calls)."""
        text = _END_TOKENS.sub("", completion).strip()
        calls = [(c.name, c.arguments) for c in parse_tool_calls(text)]
        return self.score_calls(calls, label, text)

    def __call__(self, prompts: list[Any], completions: list[Any], label: list[str], **_: Any) -> list[float]:
        """TRL's reward-function signature; completions are text or chat-message lists."""
        texts = [c if isinstance(c, str) else (c[-1].get("content") or "") if c else "" for c in completions]
        return [self.score_text(text, lab) for text, lab in zip(texts, label, strict=True)]
