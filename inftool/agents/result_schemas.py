"""The schema a tool's result follows: the spec's output schema, or, when the spec has none, one
inferred from what the tool's name says it does (`get_account_balance` → `{account_id, balance,
currency}`, `list_files` → a list of files with a count, `cancel_booking` → a `cancelled` status).
"""

from __future__ import annotations

from typing import Any

from inftool.agents.patterns import singular, words
from inftool.agents.value_pools import TEXT_WORDS, WEATHER
from inftool.specs import ToolSpec

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


def plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


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
