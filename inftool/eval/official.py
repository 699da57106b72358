"""BFCL's own single-turn verdict, as its eval runner gives it for a function-calling (FC) model.

A model's answer is kept as it came: its calls, each a name and the arguments (a JSON object, or
the raw text when they were not one). `score` then does what BFCL's `eval_runner` does with a
result file: decodes the calls as BFCL's FC handlers do (`json.loads` of the arguments), checks
the format, and calls `bfcl_eval`'s `ast_checker` with the category's language (Java/JavaScript
items are typed as BFCL types them: values are source strings its converters parse) and an FC
model whose function names had their dots replaced by underscores. `*irrelevance` passes when no
call was made, `live_relevance` when one was (BFCL's relevance rule: a call that does not decode
to `{name: {arguments}}` is no call).

BFCL's checker module imports BFCL's model registry only to read that one flag, and the registry
imports every vendor SDK BFCL supports (none of which is installed: bfcl-eval comes `--no-deps`).
It is imported here against a registry of one entry, the FC model named `MODEL`, with the flag
BFCL sets for OpenAI's FC models; a registry imported elsewhere is left in place and has the same
entry. The request side follows BFCL too: `offered_functions` applies the per-language rewriting
BFCL's generation applies to every entry, and `fc_name` the FC handlers' name mapping.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.util
import json
import sys
import types
from typing import Any

MODEL = "gpt-4o-2024-11-20-FC"  # a BFCL FC model with underscore_to_dot=True, as every OpenAI-style FC handler
_REGISTRY = "bfcl_eval.constants.model_config"


def fc_name(name: str) -> str:
    """The name an FC model is offered (BFCL's `convert_to_tool`: `.` is not allowed in tool names)."""
    return name.replace(".", "_")


def language(category: str) -> Any:
    from bfcl_eval.constants.enums import Language

    if "javascript" in category:
        return Language.JAVASCRIPT
    return Language.JAVA if "java" in category else Language.PYTHON


def _registry() -> types.ModuleType:
    stub = types.ModuleType(_REGISTRY)
    stub.MODEL_CONFIG_MAPPING = {MODEL: types.SimpleNamespace(is_fc_model=True, underscore_to_dot=True)}  # type: ignore[attr-defined]
    return stub


def _import(name: str, shims: dict[str, types.ModuleType]) -> Any:
    """Import `name` with the `shims` standing in for those modules during the import only."""
    if name in sys.modules:
        return sys.modules[name]
    saved = {k: sys.modules.get(k) for k in shims}
    sys.modules.update(shims)
    try:
        return importlib.import_module(name)
    finally:
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module


@functools.cache
def checker() -> Any:
    """bfcl-eval's `ast_checker` function."""
    return _import("bfcl_eval.eval_checker.ast_eval.ast_checker", {_REGISTRY: _registry()}).ast_checker


@functools.cache
def _runner() -> tuple[Any, Any]:
    """BFCL's `eval_runner` module and an OpenAI FC handler (for its `decode_ast`). Besides the
    registry, the runner's import chain wants `overrides` for one decorator (`final`); where it is
    not installed a stand-in gives that decorator."""
    checker()
    shims = {_REGISTRY: _registry()}
    if importlib.util.find_spec("overrides") is None:
        shims["overrides"] = types.ModuleType("overrides")
        shims["overrides"].final = shims["overrides"].override = lambda f: f  # type: ignore[attr-defined]
    runner = _import("bfcl_eval.eval_checker.eval_runner", shims)
    handlers = _import("bfcl_eval.model_handler.api_inference.openai_completion", shims)
    handler = handlers.OpenAICompletionsHandler.__new__(handlers.OpenAICompletionsHandler)  # no API client
    handler.is_fc_model, handler.model_name = True, MODEL
    return runner, handler


def runner_verdict(category: str, entry: dict[str, Any], answer: dict[str, Any] | None,
                   calls: list[dict[str, Any]]) -> bool:  # fmt: skip
    """BFCL's eval runner's own verdict on one item (its per-entry functions, given the result as an
    OpenAI FC handler stores it: `[{name: arguments JSON}]`, or the text when no call was made), to
    cross-check `score`; slower (its import pulls pandas and BFCL's prompt-mode parsers)."""
    from bfcl_eval.constants.enums import ReturnFormat

    runner, handler = _runner()
    result: Any = [{c["name"]: c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])}
                   for c in calls] or ""  # fmt: skip
    if "irrelevance" in category or category == "live_relevance":
        verdict = runner._evaluate_single_relevance_entry(handler, entry["id"], result, entry, MODEL, category)
    else:
        assert answer is not None
        lang = language(category)
        verdict = runner._evaluate_single_ast_entry(handler, entry["id"], result, answer["ground_truth"], entry, MODEL,
                                                    category, lang, ReturnFormat(lang.value))  # fmt: skip
    return bool(verdict["valid"])


def offered_functions(functions: list[dict[str, Any]], category: str) -> list[dict[str, Any]]:
    """The function docs as BFCL's generation offers them (`load_dataset_entry`'s language hint:
    the language named in every description; Java/JavaScript parameters become strings)."""
    from bfcl_eval.utils import _func_doc_language_specific_pre_processing

    return _func_doc_language_specific_pre_processing(copy.deepcopy(functions), category)


def decode(calls: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """BFCL's FC `decode_ast`: `[{name: arguments}]`, or None when some arguments do not parse."""
    out = []
    for call in calls:
        arguments = call["arguments"]
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                return None
        out.append({call["name"]: arguments})
    return out


def _fc_format(decoded: list[dict[str, Any]]) -> bool:
    """BFCL's `is_function_calling_format_output` (on a decoded list)."""
    return all(len(item) == 1 and isinstance(next(iter(item.values())), dict) for item in decoded)


def made_call(calls: list[dict[str, Any]]) -> bool:
    """BFCL's relevance rule: the answer decodes to at least one `{name: {arguments}}`."""
    decoded = decode(calls)
    return bool(decoded) and _fc_format(decoded) and decoded != [{}]  # type: ignore[arg-type]


def score(category: str, entry: dict[str, Any], answer: dict[str, Any] | None,
          calls: list[dict[str, Any]]) -> tuple[bool, str]:  # fmt: skip
    """(passed, reason) for one single-turn item: BFCL's verdict and its error type and message."""
    if category.endswith("irrelevance"):
        return (True, "") if not made_call(calls) else (False, "irrelevance_error:decoder_success: called a function")
    if category == "live_relevance":
        return (True, "") if made_call(calls) else (False, "relevance_error:decoder_failed: made no call")
    assert answer is not None, f"{entry['id']}: no possible answer"
    decoded = decode(calls)
    if decoded is None:
        return False, "ast_decoder:decoder_failed: arguments are not JSON"
    if not _fc_format(decoded):
        return False, "ast_decoder:decoder_wrong_output_format: arguments are not a JSON object"
    try:
        verdict = checker()(entry["function"], decoded, answer["ground_truth"], language(category), category, MODEL)
    except Exception as exc:  # BFCL's runner would stop here; one item fails and says why
        return False, f"checker_error: {type(exc).__name__}: {exc}"[:300]
    if verdict["valid"]:
        return True, ""
    errors = verdict.get("error") or [""]
    return False, f"{verdict.get('error_type', '')}: {_first(errors)}"[:300]


def _first(errors: list[Any]) -> str:
    """The first readable message (a parallel verdict nests the per-call errors)."""
    first = errors[0]
    if isinstance(first, dict):
        detail = next(iter(first.values()), {})
        return _first(detail.get("sub_error") or [""]) if isinstance(detail, dict) else str(detail)
    return str(first)
