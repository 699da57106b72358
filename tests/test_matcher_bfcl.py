"""The call matcher agrees with BFCL on BFCL's own data (from the bfcl-eval package files):
every ground truth, turned into a model output, passes; systematic mutations fail."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from inftool.eval_data import bfcl_category, bfcl_tools
from inftool.gates.matcher import match_calls

NON_LIVE = ["simple_python", "multiple", "parallel", "parallel_multiple"]
LIVE = ["live_simple", "live_multiple", "live_parallel", "live_parallel_multiple"]


def concrete(value: Any) -> Any:
    """A dict answer holds acceptable values per key: a model gives one concrete value each."""
    if isinstance(value, dict):
        out = {}
        for key, options in value.items():
            present, chosen = first_value(options) if isinstance(options, list) else (True, options)
            if present:
                out[key] = chosen
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [concrete(v) for v in value]
    return value


def first_value(values: list[Any]) -> tuple[bool, Any]:
    """The output a model would give for one argument: its first acceptable value (omitted if optional-first)."""
    for value in values:
        if value != "":
            return True, concrete(value)
    return False, None


def model_output(ground_truth: list[dict], tools: dict) -> list[tuple[str, dict]]:
    """Each ground-truth call as a model would write it; an optional argument the function's doc
    does not have is left out (giving it would be an unexpected argument, for BFCL too)."""
    calls = []
    for call in ground_truth:
        ((name, args),) = call.items()
        props = tools[name].parameters.get("properties", {}) if name in tools else {}
        out = {}
        for arg, values in args.items():
            present, value = first_value(values)
            if present and (arg in props or "" not in values):
                out[arg] = value
        calls.append((name, out))
    return calls


def tools_of(entry: dict) -> dict:
    return bfcl_tools(entry["function"])


def mutate_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 7919
    if isinstance(value, str):
        return value + " zzqx"
    if isinstance(value, list):
        return [*value, "zzqx"] if value else ["zzqx"]
    if isinstance(value, dict):
        return {**value, "zzqx": 1}
    return "zzqx"


def mutate_type(value: Any, kind: str | None) -> Any | None:
    if kind == "string":
        return 12345
    if kind in ("integer", "number"):
        return "12345"
    if kind == "boolean":
        return "true"
    if kind == "array":
        return "[1]"
    if kind == "object":
        return "{}"
    return None


def mutations(calls: list[tuple[str, dict]], tools: dict, expected: list[dict], rng: random.Random) -> dict[str, list]:
    out = {}
    i = rng.randrange(len(calls))
    name, args = calls[i]
    renamed = copy.deepcopy(calls)
    renamed[i] = (name + "_v2", args)
    out["wrong function"] = renamed
    acceptable = next((a for call in expected for n, a in call.items() if n == name), {})
    # a flipped boolean is no wrong value where both booleans are acceptable
    changeable = sorted(
        a for a in args if not (isinstance(args[a], bool) and {True, False} <= set(acceptable.get(a, [])))
    )
    if changeable:
        arg = rng.choice(changeable)
        changed = copy.deepcopy(calls)
        changed[i][1][arg] = mutate_value(args[arg])
        out["wrong value"] = changed
        kind = tools[name].parameters["properties"].get(arg, {}).get("type")
        typed = mutate_type(args[arg], kind)
        if typed is not None:
            retyped = copy.deepcopy(calls)
            retyped[i][1][arg] = typed
            out["wrong type"] = retyped
    required = [r for r in tools[name].parameters.get("required", []) if r in args]
    if required:
        dropped = copy.deepcopy(calls)
        del dropped[i][1][rng.choice(required)]
        out["missing required argument"] = dropped
    extra = copy.deepcopy(calls)
    extra[i][1]["unexpected_zzqx"] = 1
    out["unknown extra argument"] = extra
    if len(calls) > 1:
        out["dropped parallel call"] = [c for j, c in enumerate(calls) if j != i]
    return out


def agreement(category: str) -> tuple[int, int, list[str], dict[str, list[int]]]:
    rng = random.Random(0)
    passed, total, misses = 0, 0, []
    caught: dict[str, list[int]] = {}
    for entry, answer in bfcl_category(category):
        tools = tools_of(entry)
        expected = answer["ground_truth"]
        calls = model_output(expected, tools)
        total += 1
        ordered = False
        if match_calls(calls, expected, tools, ordered) is None:
            passed += 1
        else:
            misses.append(entry["id"])
            continue
        for kind, mutated in mutations(calls, tools, expected, rng).items():
            stats = caught.setdefault(kind, [0, 0])
            stats[1] += 1
            stats[0] += match_calls(mutated, expected, tools, ordered) is not None
    return passed, total, misses, caught


@pytest.mark.parametrize("category", NON_LIVE + LIVE)
def test_ground_truth_passes_and_mutations_fail(category: str):
    passed, total, misses, caught = agreement(category)
    share = passed / total
    report = ", ".join(f"{kind} {c}/{n}" for kind, (c, n) in sorted(caught.items()))
    print(f"\n{category}: ground truth passes {passed}/{total} ({share:.2%}); mutations caught: {report}")
    if misses:
        print(f"  unattainable by id: {misses}")
    assert share == 1.0 if category in NON_LIVE else share >= 0.99, misses
    for kind, (c, n) in caught.items():
        assert c == n, f"{kind}: {n - c} of {n} mutated outputs still passed"
