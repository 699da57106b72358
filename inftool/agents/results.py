"""Schema-faithful tool results.

A result follows the tool's output schema (or, when the spec has none, a schema inferred from the
tool's name: `result_schemas`), with values from the same generators as the arguments.
`ResultBuilder` echoes the call's arguments where a field names them (an id passed in comes back;
a search's results match its filters), reuses what earlier results in the episode said about the
same object (a booking looked up after it was made has its passenger), and marks free-text fields
for the LM to write (`usable_text` judges what it wrote). It never contains the schema itself.

The execution checks both gates run on a result are in `result_checks`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from inftool.agents.patterns import singular, words
from inftool.agents.result_schemas import CREATE, STATUS_BY_VERB, _verb_and_nouns, result_schema
from inftool.agents.value_pools import ANCHOR, ID_WORDS, TEXT_WORDS
from inftool.agents.values import Values
from inftool.specs import ToolSpec

TEXT_MAX = 240
NEGATIVE = ("cancel", "fail", "error", "reject", "delet", "remov", "expire", "declin", "inactive", "refund")
USD_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 150.0, "CHF": 0.88, "CAD": 1.36, "AUD": 1.52, "NZD": 1.64,
             "CNY": 7.2, "HKD": 7.8, "SGD": 1.34, "SEK": 10.4, "NOK": 10.6, "DKK": 6.9, "PLN": 4.0, "CZK": 23.0,
             "INR": 83.0, "BRL": 5.0, "MXN": 17.0, "ZAR": 18.5, "KRW": 1330.0, "TRY": 32.0, "AED": 3.67}  # fmt: skip


def _key(name: str) -> str:
    return "".join(words(name))


def is_text_field(name: str, schema: Any) -> bool:
    """Free text the LM may write: a plain string field named like prose (content, description …)."""
    if not isinstance(schema, dict) or schema.get("type") not in ("string", None):
        return False
    if schema.get("enum") or schema.get("format") or schema.get("pattern") or "const" in schema:
        return False
    return bool(set(words(name)) & (TEXT_WORDS | {"translation", "summary", "details", "bio"}))


def _fits(value: Any, schema: Any) -> bool:
    if not isinstance(schema, dict):
        return True
    if schema.get("enum") and value not in schema["enum"]:
        return False
    kind = schema.get("type")
    checks = {"string": str, "integer": int, "number": int | float, "boolean": bool, "array": list, "object": dict}
    return kind not in checks or (
        isinstance(value, checks[kind]) and (kind == "boolean" or not isinstance(value, bool))
    )


def known_about(arguments: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    """What earlier calls and results said about the objects this call names by id: the fields of
    every earlier object (arguments or result, one level into lists) holding one of its id values."""
    ids = {str(v) for k, v in arguments.items() if isinstance(v, str | int) and _is_id(k)}
    known: dict[str, Any] = {}
    if not ids:
        return known

    def visit(node: Any, depth: int) -> None:
        if depth > 3:
            return
        if isinstance(node, dict):
            if any(str(v) in ids for v in node.values() if isinstance(v, str | int) and not isinstance(v, bool)):
                for k, v in node.items():
                    known.setdefault(_key(k), v)
            for v in node.values():
                if isinstance(v, dict | list):
                    visit(v, depth + 1)
        elif isinstance(node, list):
            for v in node:
                visit(v, depth + 1)

    for entry in history:
        visit(entry.get("arguments"), 0)
        visit(entry.get("result"), 0)
    return known


def _is_id(name: str) -> bool:
    w = words(name)
    return bool(w) and (w[-1] in ID_WORDS or "id" in w)


class ResultBuilder:
    """Builds one call's result; `text_paths` lists the free-text fields it wrote, for the LM."""

    def __init__(self, tool: ToolSpec, arguments: dict[str, Any], history: list[dict[str, Any]]) -> None:
        self.tool = tool
        self.arguments = arguments
        digest = hashlib.sha1(f"{tool.name}:{json.dumps(arguments, sort_keys=True, default=str)}".encode()).hexdigest()
        self.values = Values(digest[:16])  # the same call gets the same result, in any run
        self.by_key = {_key(k): v for k, v in arguments.items()}
        self.known = known_about(arguments, history)
        self.verb, nouns = _verb_and_nouns(tool)
        self.context = nouns
        self.dates = [v for k, v in arguments.items() if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)]
        self.text_paths: list[tuple[str | int, ...]] = []
        since = [
            v for k, v in arguments.items() if set(words(k)) & {"since", "after", "from", "start"} and v in self.dates
        ]
        self.since = dt.date.fromisoformat(since[0]) if since else None

    def build(self) -> dict[str, Any]:
        schema = result_schema(self.tool)
        result = self.node(schema, (), "", 0, echo=True)
        result = result if isinstance(result, dict) else {"result": result}
        return self.finish(result)

    def node(self, schema: Any, path: tuple, name: str, depth: int, echo: bool) -> Any:
        if not isinstance(schema, dict) or depth > 6:
            return self.values.value(name, schema if isinstance(schema, dict) else {}, self.context)
        kind = schema.get("type")
        if kind == "object" or (kind is None and isinstance(schema.get("properties"), dict)):
            props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
            out: dict[str, Any] = {}
            self.values._person = None
            for key, sub in list(props.items())[:16]:
                out[key] = self.field(key, sub, (*path, key), depth, echo)
            return out
        if kind == "array":
            low = int(schema.get("minItems") or 2)
            high = max(low, min(int(schema.get("maxItems") or 3), 3))
            count = self.values.rng.randint(min(low, high), high)
            item_name = singular(name) if name else "item"
            items = []
            for index in range(count):
                self.values._person = None
                items.append(self.node(schema.get("items") or {"type": "string"}, (*path, index), item_name,
                                       depth + 1, echo=True))  # fmt: skip
            return items
        if is_text_field(name, schema):
            self.text_paths.append(path)
            return self.values.text(name, self.context)
        return self.values.value(name, schema, self.context)

    def field(self, key: str, schema: Any, path: tuple, depth: int, echo: bool) -> Any:
        norm = _key(key)
        ws = set(words(key))
        if norm == "status" and isinstance(schema, dict) and self.verb in STATUS_BY_VERB:
            wanted = STATUS_BY_VERB[self.verb]
            options = schema.get("enum") or [wanted]
            match = next((o for o in options if isinstance(o, str) and o.startswith(wanted[:5])), None)
            if match is None and self.verb in CREATE:  # a booking just made is not cancelled
                match = next((o for o in options if isinstance(o, str) and not o.startswith(NEGATIVE)), None)
            if match is not None:
                return match
        if isinstance(schema, dict) and schema.get("type") in ("number", "integer"):
            schema = self._bounded(ws, schema)
        if echo and norm in self.by_key and _fits(self.by_key[norm], schema):
            return self.by_key[norm]
        if norm in self.known and _fits(self.known[norm], schema):
            return self.known[norm]
        if echo and isinstance(schema, dict) and schema.get("format") == "date-time" and len(self.dates) == 1:
            return f"{self.dates[0]}T{self.values.clock()}:00Z"
        dated = echo and isinstance(schema, dict) and schema.get("format") == "date" and len(self.dates) == 1
        if dated and self.since is not None:  # listed after a `since`: between it and the anchor day
            return self.values.between(self.since, max(self.since, ANCHOR)).isoformat()
        if dated and ws & {"date", "day", "departure", "start"}:
            return self.dates[0]
        return self.node(schema, path, key, depth + 1, echo)

    def _bounded(self, ws: set[str], schema: dict[str, Any]) -> dict[str, Any]:
        """A `max_price` of 30 bounds every price-like number in the result."""
        bounded = dict(schema)
        for name, value in self.arguments.items():
            aw = set(words(name))
            if not isinstance(value, int | float) or isinstance(value, bool) or not aw & ws - {"max", "min"}:
                continue
            if aw & {"max", "maximum"}:
                bounded["maximum"] = min(value, bounded.get("maximum", value))
                bounded.setdefault("minimum", round(value * 0.4, 2))
            elif aw & {"min", "minimum"}:
                bounded["minimum"] = max(value, bounded.get("minimum", value))
        return bounded

    def finish(self, result: dict[str, Any]) -> dict[str, Any]:
        """Fields that follow from others: a size from the text beside it, a converted amount from its rate."""
        self._counts(result)
        self._sizes(result, 0)
        amount = next(
            (v for k, v in self.arguments.items() if "amount" in words(k) and isinstance(v, int | float)), None
        )
        codes = [v for k, v in self.arguments.items() if "currency" in words(k) and isinstance(v, str)]
        if amount is not None and "converted_amount" in result and len(codes) == 2:
            rate = USD_RATES.get(codes[1].upper(), 1.0) / USD_RATES.get(codes[0].upper(), 1.0)
            if "rate" in result:
                result["rate"] = round(rate, 4)
            result["converted_amount"] = round(amount * rate, 2)
        return result

    def _sizes(self, node: Any, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(node, dict):
            text = next(
                (v for k, v in node.items() if isinstance(v, str) and set(words(k)) & {"content", "body"}), None
            )
            if text is None and depth == 0:
                text = next((v for k, v in self.arguments.items() if isinstance(v, str)
                             and set(words(k)) & {"content", "body", "text"}), None)  # fmt: skip
            for key in node if text is not None else ():
                sized = isinstance(node[key], int) and not isinstance(node[key], bool)
                if sized and _key(key) in ("sizebytes", "byteswritten", "size"):
                    node[key] = len(text.encode())
            for value in node.values():
                self._sizes(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                self._sizes(value, depth + 1)

    def _counts(self, result: dict[str, Any]) -> None:
        """`count`/`total` beside a list says how many it holds."""
        lists = [v for v in result.values() if isinstance(v, list)]
        for key in list(result):
            counted = isinstance(result[key], int) and not isinstance(result[key], bool) and len(lists) == 1
            if counted and _key(key) in ("count", "total", "totalcount", "numresults"):
                result[key] = len(lists[0])


def set_path(result: Any, path: tuple, value: Any) -> None:
    node = result
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def get_path(result: Any, path: tuple) -> Any:
    node = result
    for step in path:
        node = node[step]
    return node


def usable_text(text: Any, name: str, prompt_words: tuple[str, ...] = ()) -> bool:
    """LM-written free text worth keeping: a short sentence, not JSON, not the schema, not the field
    name, not the instruction it was given (`prompt_words`: "the text of content")."""
    if not isinstance(text, str):
        return False
    stripped = text.strip()
    low = stripped.lower()
    if any(w.lower() in low for w in prompt_words) or low.startswith(("the text of", "text of", "the result")):
        return False
    if not 2 <= len(stripped) <= TEXT_MAX or stripped.lower() == name.lower():
        return False
    if re.fullmatch(r"\w+(_\w+)+", stripped):  # an identifier (card_pay), not prose
        return False
    tokens = low.split()
    grams = [tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)]
    if len(grams) != len(set(grams)) or (len(stripped) > 60 and stripped[-1] not in ".!?\"')"):
        return False  # a model looping, or cut off mid-sentence
    return not re.search(r"[{}\[\]]|\"type\"|properties|json|schema", stripped, re.IGNORECASE)
