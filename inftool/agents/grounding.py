"""Is a plan usable as a label? Checks on the user's words and the planned values.

- `ungrounded`: every value the assistant must supply appears in what the user said, compared
  after normalizing case and spacing, number formats (40 / 40.0 / "40.00" / "1,200"), and dates
  in common formats (2026-03-14, 14/03/2026, March 14, 2026, 14 Mar 2026 …).
- `placeholders`: values that stand in for data instead of being data (`write_file.path` =
  `"write_file"`, `"string"`, `"<id>"`, `"123456789…"`).
- `message_problems`: a message that names functions, talks about JSON, or leaks the prompt.

Each problem is one readable sentence: these are the reasons a plan is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from inftool.agents.phrasing import VERBS

_SPACES = re.compile(r"\s+")
_STRIP = re.compile(r"[ ,./\-_*^'\"`()\[\]:;!?]")
_NUMBER = re.compile(r"(?<![\w.\-/:])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d\-/:]|\.\d)")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b")
_NUMBER_WORDS = {w: n for n, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
))}  # fmt: skip
PLACEHOLDER_WORDS = {
    "string", "str", "text", "value", "example", "sample", "placeholder", "test", "foo", "bar", "baz", "qux",
    "xxx", "yyy", "abc", "todo", "tbd", "na", "none", "null", "undefined", "lorem ipsum", "your name",
    "john doe", "jane doe", "user", "name", "id", "integer", "number", "boolean", "object", "array", "...",
    # a schema's format names, copied from a spec's example ("updatedAfter": "date-time" in a cpu_loop plan)
    "date-time", "datetime", "int32", "int64", "uuid", "uri", "float", "double", "byte", "binary",
}  # fmt: skip
_ASKS = re.compile(r"\?|\b(please|could|can|would|will|need|needs|want|wants|like|help|let me|show me|tell me|"
                   r"i'd|i’d|i'm looking|looking for|i have to|remind me)\b", re.IGNORECASE)  # fmt: skip
_FRAMING = re.compile(  # the prompt's framing, not the user's voice: "The goal is to …", "A user wants …"
    r"^\W*(the|a|this) user\b|\b(the|your) (goal|objective|task) is\b|^\W*you (?!can|could|would|will|should|"
    r"might|may|must|need|have|are)\w+\b",
    re.IGNORECASE,
)
# JSON as code ("the following JSON code:", "a JSON object"), not as a format a request asks for ("with a JSON
# format", "JSON output": 17 of 400 template plans of a cpu_loop round were refused for the bare word)
_JSON_CODE = re.compile(r"\b(?:following|valid|this|below) json\b|(?<![.\w])json (?:code|object|schema|snippet|block|"
                        r"payload|body|string|array)\b")  # fmt: skip
_PROMPT_LEAKS = (
    "```", "function call", "call the function", "use the following", "the following code",
    "as an ai", "assistant:", "user:", "[[", "## ", "tool_call", "arguments", "parameters", "your objective",
    "user's goal", "goal:", "message:", "persona:", "the draft",
)  # fmt: skip


def normalize(text: str) -> str:
    """Lower case, NFKC, `_` as a space, ordinals and commas after digits dropped, one space."""
    return _normalize(str(text))


@functools.lru_cache(maxsize=8192)  # a message is checked against every value of its plan, each test normalizing it
def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("_", " ")
    text = _ORDINAL.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


def squash(text: str) -> str:
    """BFCL's comparison form: no spaces or `,./-_*^` (and quotes, brackets), lower case."""
    return _STRIP.sub("", normalize(text))


def _contains(text: str, value: str) -> bool:
    """`value` as a whole token run in `text` (both normalized), else squashed for values of 4+
    characters (so `ACC 1042` finds `ACC-1042` and a sentence survives its punctuation)."""
    value = normalize(value).strip(" .,;:!?")
    if not value:
        return True
    start = text.find(value)
    while start >= 0:  # each non-overlapping occurrence, as re.finditer(re.escape(value)) finds them
        end = start + len(value)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() and value[0].isalnum()) and not (after.isalnum() and value[-1].isalnum()):
            return True
        start = text.find(value, end)
    squashed = squash(value)
    return len(squashed) >= 4 and squashed in squash(text)


def numbers_in(text: str) -> list[float]:
    found = [float(m.group(1).replace(",", "")) for m in _NUMBER.finditer(text)]
    found += [float(n) for w, n in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", text)]
    return found


def date_forms(day: dt.date) -> list[str]:
    """The ways a person writes a date, normalized (commas and ordinals dropped)."""
    month, mon = day.strftime("%B").lower(), day.strftime("%b").lower()
    d, m, y = day.day, day.month, day.year
    forms = [f"{y}-{m:02d}-{d:02d}", f"{y}/{m:02d}/{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{m:02d}/{d:02d}/{y}",
             f"{d}/{m}/{y}", f"{m}/{d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d}.{m}.{y}",
             f"{d:02d}-{m:02d}-{y}"]  # fmt: skip
    for name in {month, mon, mon + "."}:
        forms += [f"{name} {d} {y}", f"{name} {d}, {y}", f"{d} {name} {y}", f"{d} of {name} {y}", f"{d} {name}, {y}"]
    return forms


def time_forms(hour: int, minute: int) -> list[str]:
    h12 = hour % 12 or 12
    half = "am" if hour < 12 else "pm"
    forms = [f"{hour:02d}:{minute:02d}", f"{hour}:{minute:02d}", f"{h12}:{minute:02d} {half}",
             f"{h12}:{minute:02d}{half}", f"{h12}.{minute:02d} {half}", f"{hour}h{minute:02d}"]  # fmt: skip
    if minute == 0:
        forms += [f"{h12} {half}", f"{h12}{half}", f"{h12} o'clock", f"{hour}h"]
    if (hour, minute) == (12, 0):
        forms.append("noon")
    return forms


def _any_form(text: str, forms: Iterable[str]) -> bool:
    return any(_contains(text, form) for form in forms)


def grounded(value: Any, text: str, name: str = "") -> bool:
    """Whether the user's (normalized) `text` carries `value`; `name` is the argument's name, the
    only evidence a boolean can have."""
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, bool):
        stems = [w[:5] for w in re.split(r"[^a-z]+", re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()) if len(w) >= 4]
        stems = [s for s in stems if s not in ("inclu", "enabl", "allow", "show")] or stems
        return any(s in text for s in stems)
    if isinstance(value, int | float):
        if any(abs(n - abs(value)) <= 1e-9 * max(1.0, abs(value)) for n in numbers_in(text)):
            return value >= 0 or "-" in text or "minus" in text or "below zero" in text
        return False
    if isinstance(value, list):
        return all(grounded(v, text, name) for v in value)
    if isinstance(value, dict):
        return all(grounded(v, text, k) for k, v in value.items())
    value = str(value)
    if m := _ISO_DATE.match(value):
        try:
            return _any_form(text, date_forms(dt.date(int(m[1]), int(m[2]), int(m[3]))))
        except ValueError:
            return _contains(text, value)
    if m := _ISO_DATETIME.match(value):
        try:
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return _contains(text, value)
        return _contains(text, value) or (
            _any_form(text, date_forms(day)) and _any_form(text, time_forms(int(m[4]), int(m[5])))
        )
    if m := _TIME.match(value):
        return _any_form(text, time_forms(int(m[1]), int(m[2])))
    return _contains(text, value)


def ungrounded(arguments: dict[str, Any], texts: Iterable[str], skip: Iterable[str] = ()) -> list[str]:
    """The arguments whose values none of `texts` (the user's words) carries."""
    text = normalize(" \n ".join(texts))
    skipped = set(skip)
    return [k for k, v in arguments.items() if k not in skipped and not grounded(v, text, k)]


def _is_placeholder(value: str, tool_name: str, argument: str) -> str | None:
    squashed = squash(value)
    tool = squash(tool_name)
    if len(tool) >= 5 and tool in squashed:
        return "named after the tool"
    if squashed and squashed == squash(argument) and len(squashed) >= 2:
        return "named after the argument"
    if normalize(value).strip(" .") in PLACEHOLDER_WORDS:
        return "a placeholder word"
    if re.fullmatch(r"\s*[<{\[].*[>}\]]\s*", value) or "$ref" in value or '"type"' in value:
        return "a template or schema, not data"
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and (digits in "01234567890123456789012345678901234567890" or len(set(digits)) == 1):
        return "a run of digits"
    if re.fullmatch(r"(.)\1{5,}", squashed):
        return "a repeated character"
    return None


def placeholders(tool_name: str, arguments: dict[str, Any]) -> list[str]:
    """Values that stand in for data: 'path is "write_file" (named after the tool)'."""
    found = []

    def walk(path: str, key: str, value: Any) -> None:
        if isinstance(value, str):
            if why := _is_placeholder(value, tool_name, key):
                found.append(f"{path} is {json.dumps(value)[:60]} ({why})")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{path}.{k}", k, v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{path}[{i}]", key, v)

    for key, value in arguments.items():
        walk(key, key, value)
    return found


def _repeats(text: str, n: int = 8) -> bool:
    """The same run of `n` words holding a value (a digit, a path, an address) twice: a model
    looping. A parallel request repeats its action ("read the file …") with other values; that passes."""
    tokens = text.split()
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    valued = [g for g in grams if any(re.search(r"[\d/@]", t) for t in g)]
    return len(valued) != len(set(valued))


def message_problems(message: str, tool_names: Iterable[str], max_chars: int = 700) -> list[str]:
    """What makes a user's message unusable, whatever it asks for."""
    text = (message or "").strip()
    if len(text) < 8:
        return [f"the user's message is {'too short to be a request' if text else 'empty'}"]
    problems = []
    low = text.lower()
    for name in tool_names:
        if ("_" in name or re.search(r"[a-z][A-Z]", name)) and re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text):
            problems.append(f"the user's message names the function {name}")
            break
    leak = next((p for p in _PROMPT_LEAKS if p in low), None) or (m.group(0) if (m := _JSON_CODE.search(low)) else None)
    if not leak and (framing := _FRAMING.search(text)):
        leak = framing.group(0).strip()
    if leak or re.search(r"\{\s*\"", text):
        problems.append(f"the user's message reads like a prompt or code ({leak or '{'!r})")
    opening = re.findall(r"[a-z]+", low)[:8]
    if not _ASKS.search(text) and not VERBS & set(opening):
        problems.append("the user's message asks for nothing")
    if re.match(r"\s*(\d+[.)]|[-*•])\s", text):
        problems.append("the user's message reads like a list item")
    sentences = [normalize(s) for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 12]
    if len(sentences) != len(set(sentences)) or _repeats(normalize(text)):
        problems.append("the user's message repeats itself")
    if len(text) > max_chars:
        problems.append(f"the user's message is {len(text)} characters long (at most {max_chars})")
    return problems
