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

import ast
import json
import uuid
from typing import Any

from inftool.eval_data import bfcl_data_dir, bfcl_tools, read_jsonl
from inftool.lm import ChatRequest, LMCallError, RoleClient
from inftool.specs.normalize import function_name

MAX_CALL_CHARS = 20_000
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
    finally:
        _forget(tag)
    passed, reason = check(decoded, ground_truth, entry)
    return passed, reason, shown


def check(decoded: list[list[list[str]]], ground_truth: list[list[str]], entry: dict[str, Any]) -> tuple[bool, str]:
    """BFCL's verdict on the calls per turn and step: `multi_turn_checker` replays them on fresh
    instances of the classes, then `multi_turn_irrelevance_checker` checks the turns with none due."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import (
        multi_turn_checker,
        multi_turn_irrelevance_checker,
    )

    tag = f"inftool_{uuid.uuid4().hex}"
    try:
        verdict = multi_turn_checker(decoded, ground_truth, entry, entry["id"].rsplit("_", 1)[0], tag)
        if verdict["valid"]:
            verdict = multi_turn_irrelevance_checker(decoded, ground_truth)
    finally:
        _forget(tag)
    reason = "" if verdict["valid"] else f"{verdict.get('error_type', '')}: {verdict.get('error_message', '')}"
    return bool(verdict["valid"]), json.dumps(reason)[1:-1][:300]


def parse_call(text: str, names: set[str]) -> str:
    """A saved call string rebuilt from its parts, or ValueError: only `name(arg=literal, ...)` with
    an offered name is accepted, so a saved file can make BFCL's executor run nothing but its own
    functions on plain values (it `eval`s the strings)."""
    if len(text) > MAX_CALL_CHARS:
        raise ValueError(f"a call string over {MAX_CALL_CHARS} characters")
    try:
        node = ast.parse(text, mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.args:
            raise ValueError("not a call of the form name(arg=value, ...)")
        if node.func.id not in names:
            raise ValueError(f"calls {node.func.id!r}, not one of the entry's functions")
        if any(k.arg is None for k in node.keywords):
            raise ValueError("a ** argument")
        arguments = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (SyntaxError, RecursionError, MemoryError, TypeError) as exc:
        raise ValueError(f"not a call of the form name(arg=value, ...) ({type(exc).__name__})") from None
    return call_string(node.func.id, arguments)


def rescore_multi_turn(entry: dict[str, Any], ground_truth: list[list[str]],
                       steps: list[dict[str, Any]]) -> tuple[bool, str]:  # fmt: skip
    """BFCL's verdict again on saved steps (`{"turn", "calls"}` each, as `evaluate_multi_turn` saves them)."""
    names = {d["name"] for d in class_docs(entry["involved_classes"])}
    decoded: list[list[list[str]]] = [[] for _ in entry["question"]]
    for step in steps:
        decoded[step["turn"]].append([parse_call(c, names) for c in step["calls"]])
    return check(decoded, ground_truth, entry)
