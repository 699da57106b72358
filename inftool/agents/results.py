"""Schema-faithful tool results, and the checks that catch unfaithful ones.

A result follows the tool's output schema (or, when the spec has none, a schema inferred from the
tool's name: `get_account_balance` → `{account_id, balance, currency}`), with values from the same
generators as the arguments. It echoes the call's arguments where a field names them (an id
passed in comes back; a search's results match its filters), reuses what earlier results in the
episode said about the same object (a booking looked up after it was made has its passenger),
and marks free-text fields for the LM to write. It never contains the schema itself.

`schema_echo` and `ignored_arguments` are the execution checks both gates run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from inftool.agents.values import ANCHOR, ID_WORDS, TEXT_WORDS, WEATHER, Values, singular, words
from inftool.specs import ToolSpec

JSON_TYPES = {"object", "string", "integer", "number", "boolean", "array", "null"}
SCHEMA_KEYS = {"properties", "items", "required", "additionalProperties", "$schema", "$ref", "enum", "anyOf",
               "oneOf", "allOf", "minLength", "maxLength", "minimum", "maximum", "pattern", "format"}  # fmt: skip
GET = {"get", "read", "lookup", "look", "fetch", "retrieve", "show", "check", "describe", "view", "load", "download"}
LIST = {"list", "search", "find", "query", "browse", "filter", "lookup_all"}
CREATE = {"create", "add", "book", "make", "send", "compose", "post", "submit", "schedule", "register", "write",
          "upload", "reserve", "order", "invite", "share", "save", "transfer", "pay", "start", "open",
          "generate"}  # fmt: skip
UPDATE = {"update", "set", "edit", "modify", "rename", "move", "assign", "mark", "enable", "disable", "change"}
DELETE = {"delete", "remove", "cancel", "archive", "unsubscribe", "close", "stop", "revoke"}
COMPUTE = {"convert", "calculate", "compute", "estimate", "translate", "predict", "summarize", "count"}
STATUS_BY_VERB = {"cancel": "cancelled", "delete": "deleted", "remove": "removed", "archive": "archived",
                  "send": "sent", "compose": "sent", "book": "confirmed", "reserve": "confirmed",
                  "transfer": "completed", "pay": "completed", "create": "created", "add": "created"}  # fmt: skip
MONEY = {"balance", "price", "cost", "total", "amount", "fee", "rate", "budget", "salary", "payment"}
ENTITIES: dict[str, dict[str, Any]] = {  # what a listed item of a well-known kind has
    "transaction": {"date": {"type": "string", "format": "date"}, "amount": {"type": "number"},
                    "description": {"type": "string"}},
    "file": {"name": {"type": "string"}, "size_bytes": {"type": "integer", "minimum": 40, "maximum": 90000}},
    "email": {"subject": {"type": "string"}, "from": {"type": "string", "format": "email"}},
    "message": {"subject": {"type": "string"}, "from": {"type": "string", "format": "email"}},
    "event": {"title": {"type": "string"}, "start": {"type": "string", "format": "date-time"}},
    "user": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
    "contact": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
    "order": {"status": {"type": "string", "enum": ["processing", "shipped", "delivered"]},
              "total": {"type": "number"}},
    "product": {"name": {"type": "string"}, "price": {"type": "number"}},
}  # fmt: skip
TEXT_MAX = 240
NEGATIVE = ("cancel", "fail", "error", "reject", "delet", "remov", "expire", "declin", "inactive", "refund")
USD_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 150.0, "CHF": 0.88, "CAD": 1.36, "AUD": 1.52, "NZD": 1.64,
             "CNY": 7.2, "HKD": 7.8, "SGD": 1.34, "SEK": 10.4, "NOK": 10.6, "DKK": 6.9, "PLN": 4.0, "CZK": 23.0,
             "INR": 83.0, "BRL": 5.0, "MXN": 17.0, "ZAR": 18.5, "KRW": 1330.0, "TRY": 32.0, "AED": 3.67}  # fmt: skip


def plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


def _key(name: str) -> str:
    return "".join(words(name))


def _verb_and_nouns(tool: ToolSpec) -> tuple[str, list[str]]:
    w = words(tool.name)
    if len(w) >= 2 and w[0] == "look" and w[1] == "up":
        w = ["lookup", *w[2:]]
    if w and w[0] in GET | LIST | CREATE | UPDATE | DELETE | COMPUTE:
        return w[0], w[1:] or words(tool.description)[1:3]
    first = words(tool.description)[:1]
    return (first[0] if first else ""), w


def _scalar_arguments(tool: ToolSpec, long_text: bool = False) -> dict[str, Any]:
    props = tool.parameters.get("properties") or {}
    out = {}
    for name, schema in props.items():
        if not isinstance(schema, dict):
            continue
        if schema.get("type") in ("object", "array") or long_text or not set(words(name)) & TEXT_WORDS:
            out[name] = schema
    return out


def inferred_schema(tool: ToolSpec) -> dict[str, Any]:
    """A result schema for a tool whose spec has none, from what its name says it does."""
    verb, nouns = _verb_and_nouns(tool)
    noun = singular(nouns[-1]) if nouns else "item"
    echo = _scalar_arguments(tool)
    props: dict[str, Any] = {}
    if noun in ("directory", "folder", "dir") and verb in LIST | GET:
        entry = {"name": {"type": "string"}, "type": {"type": "string", "enum": ["file", "folder"]},
                 "size_bytes": {"type": "integer", "minimum": 40, "maximum": 90000}}  # fmt: skip
        return {"type": "object", "properties": {**{k: v for k, v in echo.items() if "path" in words(k)},
                "entries": {"type": "array", "minItems": 2, "maxItems": 4,
                            "items": {"type": "object", "properties": entry, "required": list(entry)}},
                "count": {"type": "integer"}}}  # fmt: skip
    if verb in LIST or (nouns and nouns[-1] != noun and verb in GET):
        item = {f"{noun}_id": {"type": "string"}, **ENTITIES.get(noun, {"name": {"type": "string"}})}
        item.update({k: v for k, v in echo.items() if v.get("enum") or set(words(k)) & {"city", "category", "type"}})
        props = {plural(noun): {"type": "array", "minItems": 2, "maxItems": 3,
                              "items": {"type": "object", "properties": item, "required": list(item)}},
                 "count": {"type": "integer"}}  # fmt: skip
    elif verb in CREATE:
        status = STATUS_BY_VERB.get(verb, "success")
        thing = verb if noun in ("fund", "money", "cash") else noun  # transfer_funds → transfer_id
        props = {"status": {"type": "string", "enum": [status]}, f"{thing}_id": {"type": "string"}, **echo}
        if any(set(words(k)) & {"content", "body", "text"} for k in tool.parameters.get("properties") or {}):
            props["size_bytes"] = {"type": "integer"}
    elif verb in UPDATE or verb in DELETE:
        status = STATUS_BY_VERB.get(verb, "updated" if verb in UPDATE else "deleted")
        props = {"status": {"type": "string", "enum": [status]}, **echo}
    elif verb in COMPUTE:
        target = "translation" if verb == "translate" else "summary" if verb == "summarize" else None
        props = {**echo}
        if target:
            props[target] = {"type": "string"}
        elif noun in ("money", "currency") or any("currency" in words(k) for k in echo):
            props.update({"converted_amount": {"type": "number"}, "rate": {"type": "number", "minimum": 0.005,
                                                                             "maximum": 200}})  # fmt: skip
        else:
            props["result"] = {"type": "number"}
    elif verb in GET and noun in MONEY:
        props = {**echo, noun: {"type": "number", "minimum": 0, "maximum": 25000}, "currency": {"type": "string"}}
    elif noun in ("weather", "forecast"):
        props = {**echo, "temperature": {"type": "number"}, "conditions": {"type": "string", "enum": list(WEATHER)},
                 "humidity": {"type": "integer", "minimum": 20, "maximum": 95}}  # fmt: skip
    else:
        props = {**echo, "status": {"type": "string", "enum": ["success"]}, "details": {"type": "string"}}
    return {"type": "object", "properties": props, "required": list(props)}


def result_schema(tool: ToolSpec) -> dict[str, Any]:
    """The schema a result follows: the spec's output schema (as an object), or one inferred."""
    schema = tool.output_schema
    if isinstance(schema, dict) and schema.get("type") == "object" and schema.get("properties"):
        return schema
    if isinstance(schema, dict) and schema:
        return {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    return inferred_schema(tool)


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


def schema_echo(result: Any, depth: int = 0) -> str | None:
    """Where a result holds a JSON Schema instead of data ('data', say), or None."""
    if depth > 6:
        return None
    if isinstance(result, dict):
        kind = result.get("type")
        if isinstance(kind, str) and kind in JSON_TYPES and set(result) & SCHEMA_KEYS:
            return "the result is a JSON Schema" if depth == 0 else "a field holds a JSON Schema"
        props = result.get("properties")
        if isinstance(props, dict) and props and all(isinstance(v, dict) and "type" in v for v in props.values()):
            return "the result holds a schema's properties"
        for key, value in result.items():
            if found := schema_echo(value, depth + 1):
                return found if "'" in found else f"{found} ('{key}')"
    elif isinstance(result, list):
        for value in result[:20]:
            if found := schema_echo(value, depth + 1):
                return found
    return None


def _schema_fields(schema: Any, depth: int = 0) -> set[str]:
    if not isinstance(schema, dict) or depth > 3:
        return set()
    found = set()
    if schema.get("type") == "array" or "items" in schema:
        found |= _schema_fields(schema.get("items"), depth + 1)
    for key, sub in (schema.get("properties") or {}).items():
        found.add(_key(key))
        found |= _schema_fields(sub, depth + 1)
    return found


def field_values(result: Any, field: str) -> list[Any]:
    """Every scalar value of `field` (names compared without case or `_`) anywhere in a result."""
    return _values_of(result, _key(field))


def _values_of(result: Any, key: str, depth: int = 0) -> list[Any]:
    if depth > 4:
        return []
    found = []
    if isinstance(result, dict):
        for k, v in result.items():
            if _key(k) == key and not isinstance(v, dict | list):
                found.append(v)
            found += _values_of(v, key, depth + 1)
    elif isinstance(result, list):
        for v in result[:50]:
            found += _values_of(v, key, depth + 1)
    return found


def ignored_arguments(tool: ToolSpec, arguments: Any, result: Any) -> str | None:
    """An id the call passed, where the spec's output schema has a field of that name, that the
    result leaves out or replaces: the result ignores the call."""
    if not isinstance(arguments, dict) or not isinstance(tool.output_schema, dict):
        return None
    fields = _schema_fields(tool.output_schema)
    for name, value in arguments.items():
        if not _is_id(name) or not isinstance(value, str | int) or isinstance(value, bool):
            continue
        key = _key(name)
        if key not in fields:
            continue
        found = _values_of(result, key)
        if str(value) not in {str(v) for v in found}:
            seen = f"its {name} is {json.dumps(found[0])[:40]}" if found else "it has no such field"
            return f"{tool.name}'s result ignores {name}={json.dumps(value)[:40]} ({seen})"
    return None


def result_problem(tool: ToolSpec, arguments: Any, result_text: str) -> str | None:
    """Why a tool's (non-error) result is not a faithful answer to the call, or None."""
    try:
        result = json.loads(result_text)
    except (json.JSONDecodeError, TypeError):
        return None  # text results are a server's business
    if where := schema_echo(result):
        return f"{tool.name} returned a schema, not data: {where}"
    return ignored_arguments(tool, arguments, result)
