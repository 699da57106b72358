"""The gates' call matcher agrees with BFCL's own `ast_checker` on BFCL's own data.

Every single-turn item with a ground truth (non-live and live) is turned into a model output,
then perturbed at random (seeded): arguments dropped or added, wrong types, a tuple for a list,
ints in float arrays, case and spacing changes, other acceptable values, wrong names, extra and
missing calls, ... Each output is scored by the matcher (BFCL's names, as the gates see calls)
and by bfcl-eval's checker (the FC model's names, dots as underscores, as BFCL's eval runner
scores an FC model). Java/JavaScript items are checked with their types written as BFCL's
Python type names (the matcher scores JSON-typed calls; the eval scores Java/JavaScript source
strings with BFCL's checker itself). The two must agree on >= 99.9 % of non-live and of live
outputs, and every disagreement must fall in a class listed in `KNOWN` with its reason.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from typing import Any

import pytest

from inftool.eval import official
from inftool.eval_data import bfcl_category, bfcl_tools
from inftool.gates.matcher import match_calls

NON_LIVE = ["simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple"]
LIVE = ["live_simple", "live_multiple", "live_parallel", "live_parallel_multiple"]
PER_ITEM = 8  # random perturbations per item, beside the unperturbed output (~22,500 outputs in all)
# Disagreement classes that remain, (perturbation, who accepts): why the two differ there.
KNOWN: dict[tuple[str, str], str] = {}
# BFCL's Java/JavaScript type names → its Python ones, for the JSON-typed version of those items.
PYTHON_TYPES = {
    "string": "string", "char": "string", "boolean": "boolean", "integer": "integer", "long": "integer",
    "short": "integer", "byte": "integer", "bigint": "integer", "double": "float", "float": "float",
    "array": "array", "arraylist": "array", "hashmap": "dict", "dict": "dict", "any": "any", "tuple": "tuple",
}  # fmt: skip


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


def python_typed(node: Any) -> Any:
    """A Java/JavaScript function doc with BFCL's Python type names."""
    if isinstance(node, list):
        return [python_typed(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: python_typed(v) for k, v in node.items()}
    if isinstance(node.get("type"), str):
        out["type"] = PYTHON_TYPES.get(node["type"].lower(), node["type"])
    return out


# ---- perturbations: each takes the calls, the item and an rng; None when it does not apply ----

Calls = list[tuple[str, dict]]


def _pick(calls: Calls, rng: random.Random, want: Any = None) -> tuple[int, str] | None:
    spots = [(i, a) for i, (_, args) in enumerate(calls) for a, v in args.items() if want is None or want(v)]
    return rng.choice(spots) if spots else None


def _set(calls: Calls, i: int, arg: str, value: Any) -> Calls:
    out = copy.deepcopy(calls)
    out[i][1][arg] = value
    return out


def _change(want: Any, change: Any) -> Any:
    def perturb(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
        spot = _pick(calls, rng, want)
        if spot is None:
            return None
        i, arg = spot
        return _set(calls, i, arg, change(calls[i][1][arg], rng))

    return perturb


def is_str(v: Any) -> bool:
    return isinstance(v, str) and any(c.isalpha() for c in v)


def drop_argument(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    spot = _pick(calls, rng)
    if spot is None:
        return None
    out = copy.deepcopy(calls)
    del out[spot[0]][1][spot[1]]
    return out


def add_unknown_argument(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    i = rng.randrange(len(calls))
    return _set(calls, i, "zz_extra", rng.choice([1, "x", True, [1]]))


def add_documented_argument(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    """A parameter the doc has and the call leaves out, with a value of its type (acceptable or not)."""
    i = rng.randrange(len(calls))
    name, args = calls[i]
    props = item["tools"][name].parameters.get("properties", {}) if name in item["tools"] else {}
    free = sorted(set(props) - set(args))
    if not free:
        return None
    arg = rng.choice(free)
    kind = props[arg].get("type")
    value = {"string": "abc", "integer": 3, "number": 2.5, "boolean": True, "array": ["a"], "object": {}}.get(kind, "x")
    answer = next((a for c in item["ground_truth"] for n, a in c.items() if n == name), {})
    if arg in answer and rng.random() < 0.5:
        value = first_value(answer[arg])[1] if first_value(answer[arg])[0] else value
    return _set(calls, i, arg, value)


def other_acceptable_value(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    """Another value the possible answer lists (should pass), or omission where `""` is listed."""
    options = []
    for i, (name, _) in enumerate(calls):
        answer = next((a for c in item["ground_truth"] for n, a in c.items() if n == name), {})
        for arg, values in answer.items():
            options += [(i, arg, v) for v in values]
    if not options:
        return None
    i, arg, value = rng.choice(options)
    if value == "":
        out = copy.deepcopy(calls)
        out[i][1].pop(arg, None)
        return out
    return _set(calls, i, arg, concrete(value))


def wrong_type(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    spot = _pick(calls, rng)
    if spot is None:
        return None
    i, arg = spot
    v = calls[i][1][arg]
    if isinstance(v, bool):
        new: Any = rng.choice(["true", 1])
    elif isinstance(v, int | float):
        new = rng.choice([str(v), [v], bool(v)])
    elif isinstance(v, str):
        new = rng.choice([12345, [v], {"value": v}])
    elif isinstance(v, list):
        new = rng.choice([str(v), v[0] if v else "x", {"items": v}])
    elif isinstance(v, dict):
        new = rng.choice([str(v), [v], list(v)])
    else:
        new = "x"
    return _set(calls, i, arg, new)


def number_as_string(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: isinstance(v, int | float) and not isinstance(v, bool), lambda v, r: str(v))(
        calls, item, rng
    )


def tuple_for_list(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: isinstance(v, list), lambda v, r: tuple(v))(calls, item, rng)


def int_for_float(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: type(v) is float, lambda v, r: int(v) if v == int(v) else round(v))(calls, item, rng)


def float_for_int(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: type(v) is int, lambda v, r: float(v))(calls, item, rng)


def bool_for_int(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: type(v) is int and v in (0, 1), lambda v, r: bool(v))(calls, item, rng)


def ints_in_float_array(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    def floats(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(type(x) is float for x in v)

    return _change(floats, lambda v, r: [int(x) if x == int(x) else round(x) for x in v])(calls, item, rng)


def floats_in_int_array(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    def ints(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(type(x) is int for x in v)

    return _change(ints, lambda v, r: [float(x) for x in v])(calls, item, rng)


def _recase(text: str, rng: random.Random) -> str:
    return rng.choice([text.upper(), text.lower(), text.title(), text.swapcase()])


def _respace(text: str, rng: random.Random) -> str:
    return rng.choice([text.replace(" ", ""), text.replace(" ", "_"), f" {text} ", text.replace(" ", "  "), text + ".",
                       text.replace(",", ""), "-".join(text.split(" ")), text.replace("'", '"')])  # fmt: skip


def string_case(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(is_str, _recase)(calls, item, rng)


def string_spacing(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(is_str, _respace)(calls, item, rng)


def wrong_string(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(is_str, lambda v, r: v + r.choice([" zzqx", "1", "s"]))(calls, item, rng)


def empty_string(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(is_str, lambda v, r: r.choice(["", " ", "-"]))(calls, item, rng)


def none_value(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: True, lambda v, r: None)(calls, item, rng)


def wrong_number(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: isinstance(v, int | float) and not isinstance(v, bool), lambda v, r: v + 7)(
        calls, item, rng
    )


def flip_bool(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: isinstance(v, bool), lambda v, r: not v)(calls, item, rng)


def empty_list(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return _change(lambda v: isinstance(v, list) and bool(v), lambda v, r: [])(calls, item, rng)


def list_element_case(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    def strings(v: Any) -> bool:
        return isinstance(v, list) and any(is_str(x) for x in v)

    def change(v: list, r: random.Random) -> list:
        j = r.choice([k for k, x in enumerate(v) if is_str(x)])
        return [(_recase(x, r) if r.random() < 0.5 else _respace(x, r)) if k == j else x for k, x in enumerate(v)]

    return _change(strings, change)(calls, item, rng)


def list_changed(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    def change(v: list, r: random.Random) -> list:
        return r.choice([v[::-1], v[:-1], [*v, v[-1]], [*v, "zzqx"]])

    return _change(lambda v: isinstance(v, list) and bool(v), change)(calls, item, rng)


def dict_changed(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    def change(v: Any, r: random.Random) -> Any:
        d = v if isinstance(v, dict) else r.choice(v)
        if not d:
            new: dict = {"zz": 1}
        else:
            key = r.choice(sorted(d))
            x = d[key]
            options = [{k: y for k, y in d.items() if k != key}, {**d, "zz_extra": 1}]
            if isinstance(x, str):
                options += [{**d, key: _recase(x, r)}, {**d, key: _respace(x, r)}, {**d, key: x + "q"}]
            if isinstance(x, list) and x and isinstance(x[0], str):
                options.append({**d, key: [_recase(x[0], r), *x[1:]]})
            if type(x) is float:
                options.append({**d, key: int(x)})
            new = r.choice(options)
        return new if isinstance(v, dict) else [new if e is d else e for e in v]

    def dicts(v: Any) -> bool:
        return isinstance(v, dict) or (isinstance(v, list) and bool(v) and all(isinstance(e, dict) for e in v))

    return _change(dicts, change)(calls, item, rng)


POOL = [None, 0, 1, -1, 2.5, 1.0, True, False, "", " ", "a", "A b", [], [1], [1.0], [True], ["a"], ["A"], [[1]], [""],
        {}, {"a": 1}, [{"a": 1}], (1,), ("a",), [None], [1, "a"]]  # fmt: skip


def random_value(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    """Any value at all: from a pool of every JSON shape, or another argument's acceptable value."""
    spot = _pick(calls, rng)
    if spot is None:
        return None
    answers = [v for call in item["ground_truth"] for a in call.values() for vs in a.values() for v in vs if v != ""]
    pool = POOL + [concrete(v) for v in answers]
    return _set(calls, *spot, copy.deepcopy(rng.choice(pool)))


def wrong_element(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    """One element of a list argument replaced by a value of another shape."""

    def change(v: list, r: random.Random) -> list:
        out = list(v)
        out[r.randrange(len(out))] = copy.deepcopy(r.choice(POOL))
        return out

    return _change(lambda v: isinstance(v, list) and bool(v), change)(calls, item, rng)


def wrong_name(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    i = rng.randrange(len(calls))
    out = copy.deepcopy(calls)
    name = out[i][0]
    others = [n for n in item["tools"] if n != name]
    out[i] = (rng.choice([*others, name + "_v2", name.upper()]) if others else name + "_v2", out[i][1])
    return out


def dotted_name(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    """The model writes BFCL's spelling (with dots) although it was offered underscores."""
    dotted = [i for i, (n, _) in enumerate(calls) if "." in n]
    if not dotted:
        return None
    out = copy.deepcopy(calls)
    i = rng.choice(dotted)
    out[i] = ("DOTTED:" + out[i][0], out[i][1])
    return out


def extra_call(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return [*copy.deepcopy(calls), copy.deepcopy(rng.choice(calls))]


def dropped_call(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return [c for j, c in enumerate(copy.deepcopy(calls)) if j != rng.randrange(len(calls))] if calls else None


def shuffled_calls(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    if len(calls) < 2:
        return None
    out = copy.deepcopy(calls)
    rng.shuffle(out)
    return out


def no_call(calls: Calls, item: dict, rng: random.Random) -> Calls | None:
    return []


PERTURBATIONS = {f.__name__: f for f in (
    drop_argument, add_unknown_argument, add_documented_argument, other_acceptable_value, wrong_type,
    number_as_string, tuple_for_list, int_for_float, float_for_int, bool_for_int, ints_in_float_array,
    floats_in_int_array, string_case, string_spacing, wrong_string, empty_string, none_value, wrong_number,
    flip_bool, empty_list, list_element_case, list_changed, dict_changed, random_value, wrong_element, wrong_name,
    dotted_name, extra_call, dropped_call, shuffled_calls, no_call,
)}  # fmt: skip


def items(category: str) -> list[dict]:
    out = []
    for entry, answer in bfcl_category(category):
        functions = python_typed(entry["function"]) if category in ("simple_java", "simple_javascript") else None
        functions = functions or entry["function"]
        out.append({"id": entry["id"], "category": category, "functions": functions,
                    "tools": bfcl_tools(functions), "ground_truth": answer["ground_truth"]})  # fmt: skip
    return out


def fc_output(calls: Calls) -> Calls:
    """The output as an FC model writes it: the offered names (dots as underscores), or, for the
    `dotted_name` perturbation, BFCL's own spelling, which was not offered."""
    return [(n.removeprefix("DOTTED:") if n.startswith("DOTTED:") else official.fc_name(n), a) for n, a in calls]


def verdicts(item: dict, calls: Calls) -> tuple[bool, bool]:
    """(matcher accepts, BFCL's checker accepts) for one output. Both see the FC model's output;
    the matcher, as the gates do, with the tools and the expected calls under the offered names."""
    from bfcl_eval.constants.enums import Language

    output = fc_output(calls)
    tools = {official.fc_name(n): t for n, t in item["tools"].items()}
    expected = [{official.fc_name(n): a for n, a in call.items()} for call in item["ground_truth"]]
    matcher = match_calls(output, expected, tools)
    verdict = official.checker()(item["functions"], [{n: a} for n, a in output], item["ground_truth"],
                                 Language.PYTHON, item["category"], official.MODEL)  # fmt: skip
    return matcher is None, bool(verdict["valid"])


def agreement(categories: list[str], seed: int = 0) -> tuple[int, int, Counter, Counter, dict]:
    rng = random.Random(seed)
    total = agreed = 0
    kinds: Counter = Counter()
    classes: Counter = Counter()
    examples: dict = {}
    for category in categories:
        for item in items(category):
            base = model_output(item["ground_truth"], item["tools"])
            outputs = [("unperturbed", base)]
            names = list(PERTURBATIONS)
            for _ in range(PER_ITEM):
                for name in rng.sample(names, len(names)):  # the first perturbation that applies
                    perturbed = PERTURBATIONS[name](base, item, rng)
                    if perturbed is not None:
                        outputs.append((name, perturbed))
                        break
            for name, calls in outputs:
                matcher, bfcl = verdicts(item, calls)
                total += 1
                kinds[name] += 1
                if matcher == bfcl:
                    agreed += 1
                    continue
                key = (name, "matcher accepts" if matcher else "BFCL accepts")
                classes[key] += 1
                examples.setdefault(key, (item["id"], calls))
    return agreed, total, kinds, classes, examples


@pytest.mark.parametrize("group", ["non_live", "live"])
def test_matcher_agrees_with_bfcl_checker_on_perturbed_outputs(group: str):
    categories = NON_LIVE if group == "non_live" else LIVE
    agreed, total, kinds, classes, examples = agreement(categories)
    print(f"\n{group}: {agreed}/{total} agree ({agreed / total:.3%}); perturbations: {dict(sorted(kinds.items()))}")
    for key, count in classes.most_common():
        print(f"  {count:>4}  {key}: e.g. {examples[key]}")
    assert total > 2 * sum(len(bfcl_category(c)) for c in categories)  # every item, perturbed
    assert len(kinds) > 20  # the perturbations reach the data
    unknown = {k: examples[k] for k in classes if k not in KNOWN}
    assert not unknown, f"new disagreement classes: {unknown}"
    assert agreed / total >= 0.999


def test_the_unperturbed_ground_truth_passes_both():
    for category in ("simple_python", "parallel_multiple", "live_multiple"):
        for item in items(category)[:50]:
            assert verdicts(item, model_output(item["ground_truth"], item["tools"])) == (True, True), item["id"]


def test_matcher_semantics_in_the_classes_it_once_disagreed_on():
    properties = {
        "xs": {"type": "array", "items": {"type": "float"}, "description": ""},
        "pair": {"type": "array", "items": {"type": "integer"}, "description": ""},
        "tags": {"type": "array", "items": {"type": "string"}, "description": ""},
        "n": {"type": "integer", "description": ""},
        "s": {"type": "string", "description": ""},
    }
    answer = {"xs": [[1.0, 3.0]], "pair": [[1, 2]], "tags": ["", []], "n": ["count"], "s": ["New York"]}
    parameters = {"type": "dict", "required": ["xs"], "properties": properties}
    functions = [{"name": "f", "description": "", "parameters": parameters}]
    item = {"id": "t", "category": "simple_python", "ground_truth": [{"f": answer}], "functions": functions}
    item["tools"] = bfcl_tools(item["functions"])
    ok = {"xs": [1.0, 3.0], "pair": [1, 2], "n": "count", "s": "new york"}
    cases = {
        "as given": ({}, True),
        "ints in a float array": ({"xs": [1, 3]}, False),
        "a tuple for an array": ({"pair": (1, 2)}, False),
        "an empty list for an optional array": ({"tags": []}, True),
        "a variable compared exactly": ({"n": "Count"}, False),
        "a string normalized": ({"s": "NEW-YORK"}, True),
        "an int for a float, top level": ({"xs": [1.0, 3.0]}, True),
    }
    for label, (change, expected) in cases.items():
        calls = [("f", {**ok, **change})]
        assert verdicts(item, calls) == (expected, expected), label
