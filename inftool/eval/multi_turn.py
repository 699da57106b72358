"""BFCL multi-turn items against BFCL's own tool classes (from the bfcl-eval package).

The model answers each user turn in up to `max_steps` steps; every call it makes is executed
on live instances of BFCL's classes (GorillaFileSystem, TradingBot, ...) and the result goes
back into the chat. Then BFCL's own `multi_turn_checker` replays the calls and compares every
class's state with the ground truth's after each turn, and `multi_turn_irrelevance_checker`
checks turns where nothing should be called: the same verdict BFCL's eval runner gives.
Calls are written as BFCL's call strings (`name(arg=value)`) from parsed JSON values, so only
offered function names and Python literals ever reach BFCL's executor.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from inftool.eval_data import bfcl_data_dir, bfcl_tools, read_jsonl
from inftool.lm import ChatRequest, LMCallError, RoleClient
from inftool.specs.normalize import function_name

ADDED_FUNCTIONS_PROMPT = "I have updated some more functions you can choose from. What about now?"  # BFCL's own


def class_docs(classes: list[str]) -> list[dict[str, Any]]:
    from bfcl_eval.constants.executable_backend_config import MULTI_TURN_FUNC_DOC_FILE_MAPPING

    folder = bfcl_data_dir() / "multi_turn_func_doc"
    return [doc for c in classes for doc in read_jsonl(folder / MULTI_TURN_FUNC_DOC_FILE_MAPPING[c])]


def call_string(name: str, arguments: dict[str, Any]) -> str:
    return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in arguments.items()) + ")"


def _forget(tag: str) -> None:
    """BFCL's executor keeps instances in its module globals, keyed by model name; drop ours."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    for key in [k for k in vars(multi_turn_utils) if tag in k]:
        del vars(multi_turn_utils)[key]


async def evaluate_multi_turn(client: RoleClient, system: str, entry: dict[str, Any], ground_truth: list[list[str]],
                              max_steps: int) -> tuple[bool, str, list[dict[str, Any]]]:  # fmt: skip
    """(passed, reason, calls per turn) for one multi-turn entry."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import (
        multi_turn_checker,
        multi_turn_irrelevance_checker,
    )
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call

    tag = f"inftool_{uuid.uuid4().hex}"
    docs = class_docs(entry["involved_classes"])
    missed = {int(turn): set(names) for turn, names in entry.get("missed_function", {}).items()}
    held_back = {n for names in missed.values() for n in names}
    offered = [d for d in docs if d["name"] not in held_back]
    long_context = "long_context" in entry["id"]
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    decoded: list[list[list[str]]] = []
    shown: list[dict[str, Any]] = []
    try:
        for turn, question in enumerate(entry["question"]):
            if turn in missed:
                offered += [d for d in docs if d["name"] in missed[turn]]
                question = question or [{"role": "user", "content": ADDED_FUNCTIONS_PROMPT}]
            messages += question
            tools = bfcl_tools(offered)
            names = {function_name(n): n for n in tools}
            schema = [tools[n].model_copy(update={"name": v}).openai_tool() for v, n in names.items()]
            steps: list[list[str]] = []
            for step in range(max_steps):
                try:
                    result = await client.acomplete(ChatRequest(messages=messages, tools=schema, temperature=0.0,
                                                                seed=step))  # fmt: skip
                except LMCallError as exc:
                    return False, f"LM failure at turn {turn}: {exc.reason}", shown
                calls = [c for c in result.tool_calls if c.name in names]
                if not calls:
                    messages.append({"role": "assistant", "content": result.content or ""})
                    break
                strings = [call_string(names[c.name], c.arguments) for c in calls]
                outputs, _ = execute_multi_turn_func_call(strings, entry["initial_config"], entry["involved_classes"],
                                                          tag, entry["id"], long_context=long_context)  # fmt: skip
                messages.append({"role": "assistant", "content": None, "tool_calls": [c.openai() for c in calls]})
                messages += [
                    {"role": "tool", "tool_call_id": c.id, "name": c.name, "content": str(out)[:2000]}
                    for c, out in zip(calls, outputs, strict=True)
                ]
                steps.append(strings)
                shown.append({"turn": turn, "calls": strings})
            decoded.append(steps)
        verdict = multi_turn_checker(decoded, ground_truth, entry, entry["id"].rsplit("_", 1)[0], tag)
        if verdict["valid"]:
            verdict = multi_turn_irrelevance_checker(decoded, ground_truth)
    finally:
        _forget(tag)
    reason = "" if verdict["valid"] else f"{verdict.get('error_type', '')}: {verdict.get('error_message', '')}"
    return bool(verdict["valid"]), json.dumps(reason)[1:-1][:300], shown
