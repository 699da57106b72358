"""Grammar-guided decoding on a llama.cpp context, with llguidance computing the token masks.

llama.cpp's own grammar sampler checks all ~49k vocabulary tokens against the grammar at every
step (two thirds of a SmolLM2-135M forward pass, measured) and feeds every token on its own.
Here llguidance gives (a) the tokens the grammar forces (`{"tool_calls": [{"name": "`, a single
tool's name, required keys), which go through the model in one batch with the token chosen
before them, and (b) the allowed set only when the model's own top token breaks the grammar.
JSON is compact with fixed separators (`", "`, `": "`), as the prompt shows it, so structure is
forced, not sampled.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from inftool.lm.constrained import without_keys

JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
# Dropped step by step when a schema does not compile: spec regexes and formats first, then bounds.
_LOOSER = (("pattern", "format", "patternProperties"), ("maxLength", "minLength", "maxItems", "minItems"))
# llama.cpp's default sampling chain (llama-cpp-python's `create_chat_completion` defaults).
TOP_K, TOP_P, MIN_P = 40, 0.95, 0.05


@dataclass
class Generation:
    text: str
    finish_reason: str  # "stop" (grammar complete, EOS or `stop_when`) | "length"
    prompt_tokens: int
    completion_tokens: int


def closed(schema: Any) -> Any:
    """Objects with `properties` and no say on others get `additionalProperties: false`: a
    structured output has the fields it names (as llama.cpp's and OpenAI's converters read it),
    not whatever else a small model invents."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: closed(v) for k, v in out["properties"].items()}
        out.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = closed(out[key])
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(out.get(key), list):
            out[key] = [closed(v) for v in out[key]]
    for key in ("$defs", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {k: closed(v) for k, v in out[key].items()}
    return out


@lru_cache(maxsize=512)
def grammar_for(schema_json: str, tokenizer: Any) -> str:
    """An llguidance grammar for a JSON Schema: the schema as is (then with unknown keywords
    ignored), then without patterns and formats, then without length bounds, then any object."""
    from llguidance import LLMatcher

    schema = closed(json.loads(schema_json))
    for level in range(len(_LOOSER) + 1):
        dropped = {k for group in _LOOSER[:level] for k in group}
        attempt = without_keys(schema, dropped.__contains__)
        for options in (JSON_OPTIONS, {**JSON_OPTIONS, "lenient": True}):
            try:
                grammar = LLMatcher.grammar_from_json_schema(attempt, defaults=options)
            except ValueError:
                continue
            if not LLMatcher.validate_grammar(grammar, tokenizer):
                return grammar
    return LLMatcher.grammar_from_json_schema({"type": "object"}, defaults=JSON_OPTIONS)


def feed_prompt(llama: Any, tokens: list[int]) -> None:
    """Evaluate `tokens`, reusing the KV cache for the prefix they share with the last prompt."""
    cached = llama.input_ids[: min(llama.n_tokens, len(tokens))]
    differ = np.flatnonzero(cached != np.asarray(tokens[: len(cached)]))
    shared = int(differ[0]) if len(differ) else len(cached)
    llama.n_tokens = min(shared, len(tokens) - 1)  # re-evaluate at least one token: fresh logits
    llama.eval(tokens[llama.n_tokens :])


def _allowed(matcher: Any, n_vocab: int) -> np.ndarray:
    mask = np.zeros((n_vocab + 31) // 32, dtype=np.int32)
    matcher.unsafe_compute_mask_ptr(mask.ctypes.data, mask.nbytes)
    return np.unpackbits(mask.view(np.uint8), bitorder="little")[:n_vocab].astype(bool)


def pick_token(logits: np.ndarray, matcher: Any, temperature: float, rng: np.random.Generator) -> int:
    """Greedy: the model's top token when the grammar allows it (one check), else the best allowed
    one. Sampling: top-k, top-p, min-p, then temperature over the allowed tokens."""
    if temperature <= 0:
        top = int(np.argmax(logits))
        if matcher.validate_tokens([top]) == 1:
            return top
    masked = np.where(_allowed(matcher, len(logits)), logits, -np.inf)
    if temperature <= 0:
        return int(np.argmax(masked))
    k = min(TOP_K, int(np.isfinite(masked).sum()))
    best = np.argpartition(-masked, k - 1)[:k]
    best = best[np.argsort(-masked[best])]
    scores = masked[best].astype(np.float64)
    probs = np.exp(scores - scores[0])
    probs /= probs.sum()
    keep = min(int(np.searchsorted(np.cumsum(probs), TOP_P)) + 1, int((probs >= MIN_P * probs[0]).sum()))
    tempered = np.exp((scores[:keep] - scores[0]) / temperature)
    return int(rng.choice(best[:keep], p=tempered / tempered.sum()))


def loop_period(tokens: list[int], span: int = 36) -> int:
    """The length of the block the last `span` tokens repeat (3+ times: `0000…`, `.csm.csm…`, a
    sentence said again and again), or 0. A model in such a loop runs on until a length bound
    stops it, not by itself."""
    if len(tokens) < span:
        return 0
    tail = tokens[-span:]
    for period in range(1, span // 3 + 1):
        if all(tail[i] == tail[i - period] for i in range(period, span)):
            return period
    return 0


def generate(llama: Any, tokenizer: Any, prompt: list[int], grammar: str, *, temperature: float, seed: int,
             max_tokens: int, stop_when: Callable[[str], bool] | None = None,
             stop_loops: bool = False) -> Generation:  # fmt: skip
    """Decode under `grammar` until it is complete, EOS, `max_tokens` or `stop_when(text)` (checked
    whenever a `}` is emitted). A repetition loop ends the output with `stop_loops` (for output
    whose complete parts are kept when it is cut, like a call list), else the loop's tokens are
    barred for one step so the model moves on (cut JSON would not parse). Each forward pass
    carries the last chosen token together with the tokens the grammar forces after it."""
    from llguidance import LLMatcher

    room = llama.n_ctx() - len(prompt)
    if room <= 1:
        raise ValueError(f"prompt of {len(prompt)} tokens does not fit the context window ({llama.n_ctx()})")
    max_tokens = min(max_tokens, room - 1)
    matcher = LLMatcher(tokenizer, grammar, log_level=0)
    feed_prompt(llama, prompt)
    rng, eos, n_vocab = np.random.default_rng(seed), llama.token_eos(), llama.n_vocab()
    out: list[int] = []  # accepted by the grammar
    pending: list[int] = []  # accepted, not yet through the model

    def accept(tokens: list[int]) -> str | None:
        """Commit tokens; the finish reason once generation is over."""
        matcher.consume_tokens(tokens)
        out.extend(tokens)
        pending.extend(tokens)
        if matcher.is_stopped() or matcher.is_error():
            return "stop"
        if stop_when and b"}" in llama.detokenize(tokens) and stop_when(_text(llama, out)):
            return "stop"
        return "length" if len(out) >= max_tokens or (stop_loops and loop_period(out)) else None

    finish = None
    while not finish:
        forced = [t for t in matcher.compute_ff_tokens() if t != eos][: max_tokens - len(out)]
        if forced and (finish := accept(forced)):
            break
        if pending:
            llama.eval(pending)
            pending.clear()
        logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
        if period := loop_period(out):  # only reached without stop_loops
            logits = logits.copy()
            logits[out[-period:]] = -np.inf
        token = pick_token(logits, matcher, temperature, rng)
        finish = "stop" if token == eos else accept([token])
    return Generation(_text(llama, out), finish, len(prompt), len(out))


def _text(llama: Any, tokens: list[int]) -> str:
    return llama.detokenize(tokens).decode("utf-8", errors="replace")
