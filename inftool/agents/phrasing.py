"""Messages a person would write, stating the planned values: the draft the user simulator's LM
rewrites, and its last resort when no rewrite carries every value.

"Please transfer 40.00 EUR from ACC-1042 to ACC-7731." — not "call transfer_funds with
amount=40". The action comes from the tool's description (or name), values go where the
description names their thing ("a bank account" → "account ACC-1042", "a city" → "Lisbon"),
the rest follow as short phrases ("from …", "on March 14, 2026", "for 3 nights").
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

from inftool.agents.patterns import words
from inftool.agents.rewording import reword
from inftool.agents.value_pools import ID_WORDS

VERBS = {
    "get", "list", "search", "find", "create", "send", "book", "cancel", "transfer", "convert", "read", "write",
    "look", "lookup", "update", "delete", "remove", "add", "check", "set", "fetch", "retrieve", "show", "calculate",
    "compute", "translate", "schedule", "upload", "download", "generate", "post", "submit", "start", "stop", "open",
    "close", "move", "copy", "rename", "reserve", "pay", "order", "buy", "track", "subscribe", "register", "invite",
    "share", "query", "count", "validate", "verify", "estimate", "predict", "summarize", "compose", "make", "edit",
    "modify", "assign", "approve", "reject", "archive", "restore", "run", "play", "save", "mark", "tell", "give",
    "analyze", "analyse", "extract", "parse", "detect", "classify", "resolve", "describe", "enable", "disable",
    "reset", "change", "withdraw", "deposit", "kick", "mute", "unmute", "block", "unblock", "replace", "import",
    "export", "publish", "revoke", "grant", "clone", "attach", "detach", "link", "unlink", "refresh", "apply", "accept",
    "decline", "confirm", "notify", "lock", "unlock", "join", "leave", "follow", "unfollow", "request", "sync",
    "upsert", "duplicate", "invalidate", "trigger", "transcribe", "render", "print", "release", "clear", "execute",
    "invoke", "view", "activate", "deactivate", "perform", "identify", "connect", "disconnect", "recognize", "purge",
    "ping", "restart", "reboot", "install", "uninstall", "load", "reload", "unload", "regenerate", "synchronize",
    "browse", "infer",
}  # fmt: skip
THIRD_PERSON = {"returns": "get", "gets": "get", "retrieves": "get", "fetches": "get", "provides": "get",
                "lists": "list", "creates": "create", "sends": "send", "searches": "search", "finds": "find",
                "updates": "update", "deletes": "delete", "removes": "remove", "adds": "add", "checks": "check",
                "calculates": "calculate", "computes": "compute", "books": "book", "cancels": "cancel",
                "converts": "convert", "reads": "read", "writes": "write", "looks": "look",
                "shows": "show", "displays": "show", "return": "get", "obtain": "get", "patch": "update"}  # fmt: skip
IMPERATIVE = ("Please {a}.", "Could you {a}?", "Can you {a}?", "I need you to {a}.", "Would you {a}, please?",
              "Hi! Please {a}.", "I'd like you to {a}.")  # fmt: skip
NOUN = ("I'd like {a}.", "Can you get me {a}?", "I need {a}.", "Could you find {a}?", "Please get me {a}.")
ALSO = ("Also {a}.", "And please {a}.", "Please also {a}.", "I'd also like you to {a}.", "And could you {a}?")
THEN = ("Then {a}.", "After that, {a}.", "Once that's done, {a}.", "Then please {a}.")
_MONEY = {"amount", "price", "cost", "total", "balance", "fee", "payment", "sum", "budget", "salary"}
_PLURALS = {"nights", "guests", "adults", "people", "passengers", "rooms", "seats", "days", "weeks", "tickets",
            "children", "items", "copies", "hours", "minutes", "servings"}  # fmt: skip
_TEXTS = {"content", "body", "text", "message", "description", "summary", "comment", "details"}
# what real specs put before the action: a label ("Description: …") or a subject ("This endpoint returns …")
_PATH = re.compile(r"(?:(?:get|post|put|patch|delete)\s+)?/\S*", re.IGNORECASE)  # a description that is a path
_NO_ACTION = re.compile(r"(can be |is )?used (as|to|for)\b", re.IGNORECASE)  # "Can be used as an extra layer of …"
_VERSION = re.compile(r"v?\d+")  # a name's version and numbering words: post_v0_1_ConferenceKick, search_15
_LABEL = re.compile(r"^(description|summary|purpose|operation|endpoint)\s*:\s*", re.IGNORECASE)
_ALLOWS = re.compile(r"^(?:allows?|lets) (?:\w+ ){0,6}?to (?=\w)", re.IGNORECASE)  # "Allows a developer to …"
_USE = re.compile(r"^use this (?:method|endpoint|call|operation|api|function) to (?=\w)", re.IGNORECASE)
# camelCase names in a description ("copySnapshotToExistingGame", "identified by faceHashes"); not "iPhone", "eBay"
_OPERATION = re.compile(r"\b[a-z]{2,}(?:[A-Z][a-z0-9]+)+\b")
_SUBJECT = re.compile(r"^(this|the) (operation|endpoint|method|api|call|request|route|function|service) (will )?",
                      re.IGNORECASE)  # fmt: skip


def humanize(name: str) -> str:
    return " ".join(words(name))


def say(value: Any, name: str, rng: random.Random) -> str:
    """A value as a person writes it: 40.00 for money, a date in a common format, lists joined."""
    ws = set(words(name))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and ws & _MONEY:
        return f"{value:,.2f}"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return listed([say(v, name, rng) for v in value])
    if isinstance(value, dict):
        return _object(value, rng)
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) and rng.random() < 0.5:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return text
        return rng.choice((f"{day:%B} {day.day}, {day.year}", f"{day.day} {day:%B} {day.year}"))
    return text.replace("_", " ") if re.fullmatch(r"[a-z]+(_[a-z]+)+", text) else text


def listed(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _object(value: dict[str, Any], rng: random.Random) -> str:
    first = next((v for k, v in value.items() if set(words(k)) & {"first", "given"}), None)
    last = next((v for k, v in value.items() if set(words(k)) & {"last", "surname", "family"}), None)
    rest = {k: v for k, v in value.items() if not set(words(k)) & {"first", "given", "last", "surname", "family"}}
    parts = [f"{first or ''} {last or ''}".strip()] if first or last else []
    for k, v in rest.items():
        if "email" in words(k):
            parts.append(f"({v})" if parts else str(v))
        else:
            parts.append(f"{humanize(k)} {say(v, k, rng)}")
    return " ".join(parts) if first or last else ", ".join(parts)


def phrase(name: str, value: Any, rng: random.Random, schema: dict[str, Any] | None = None) -> str:
    """One argument as a short phrase: "from ACC-1042", "on 2026-03-14", "for 3 nights"."""
    w = words(name)
    ws = set(w)
    several = isinstance(value, list) and len(value) > 1 and all(isinstance(v, str) for v in value)
    texts = [say(v, name, rng) for v in value] if several else []
    text = listed(texts) if texts else say(value, name, rng)
    if isinstance(value, str) and " " in text:
        text = text.rstrip(".")  # a quoted sentence ends the user's sentence, not its own
    # quoted, each its own: '"a" and "b"', not '"a and b"'
    said = listed([f'"{t.rstrip(".")}"' for t in texts]) if texts else f'"{text}"'
    fmt = str((schema or {}).get("format") or "")
    noun = " ".join(x for x in w if x not in ID_WORDS | {"from", "to", "preference", "type", "mode"}) or humanize(name)
    if isinstance(value, bool):
        if ws & {"recursive", "recursively"}:
            return "recursively" if value else "not recursively"
        rest = " ".join(x for x in w if x not in {"is", "has", "include", "enable", "with", "use", "show"})
        if ws & {"include", "show", "with"}:
            return f"{'including' if value else 'without'} {rest}"
        return f"with {rest} {'enabled' if value else 'disabled'}"
    if ws & {"from", "source", "origin", "src"}:
        return f"from {text}"
    if ws & {"to", "target", "destination", "recipient", "dst"} or (fmt == "email" and ws & {"to"}):
        return f"to {text}"
    if ws & {"since", "after"}:
        return f"since {text}"
    if ws & {"until", "before", "end"}:
        return f"until {text}"
    if "check" in ws and "in" in ws:
        return f"checking in on {text}"
    if "check" in ws and "out" in ws:
        return f"checking out on {text}"
    if fmt == "date" or ws & {"date", "day", "departure"}:
        return f"on {text}"
    if fmt == "time" or w[-1:] == ["time"]:
        return f"at {text}"
    if ws & {"city", "location", "town", "place"}:
        return f"in {text}"
    if ws & {"max", "maximum"} and ws & _MONEY:
        return f"under {text}"
    if ws & {"min", "minimum"} and ws & _MONEY:
        return f"of at least {text}"
    if ws & {"limit"} or (ws & {"max", "top"} and ws & {"results", "count", "items", "k"}):
        return f"showing at most {text} results"
    if w and w[-1] in _PLURALS and isinstance(value, int):
        return f"for {text} {w[-1] if value != 1 else w[-1].rstrip('s')}"
    if ws & {"cabin", "class"} and isinstance(value, str):
        return f"in {text} class"
    if ws & {"reason"}:
        return f"because of {text}"
    if text == "any":
        return f"with any {noun}"
    if (schema or {}).get("enum") and isinstance(value, str) and not ws & {"units", "unit", "language", "currency"}:
        return f"with {'an' if text[:1].lower() in 'aeiou' else 'a'} {text} {noun}"
    if ws & {"subject", "title"}:
        return f"with the subject {said}"
    if ws & {"memo", "note", "notes"}:
        return f"with the note {said}"
    if ws & {"content", "text"}:
        return f"with the text {said}"
    if ws & _TEXTS:
        return f"saying {said}"
    if ws & {"query", "search", "keyword", "keywords", "q", "term"}:
        return f"for {said}"
    if ws & {"path", "file", "filename"}:
        return f"at {text}" if "/" in text else f"named {text}"
    if ws & {"units", "unit", "language", "currency", "format"} or (schema or {}).get("enum"):
        return f"in {text} {noun}" if ws & {"units", "unit"} else f"with {noun} {text}"
    if isinstance(value, dict):
        return f"for {text}"
    if ws & {"name", "passenger", "customer", "guest", "person", "user", "contact"} and not ws & ID_WORDS:
        return f"for {text}"
    return f"{noun} {text}"


def action(description: str, tool_name: str) -> tuple[str, bool]:
    """(the tool's action as a clause, whether it is imperative): "get the current balance of a bank
    account" from "Get the current balance of a bank account."; a noun phrase otherwise. A title
    before the action ("Team records. Get team records by year.") gives way to the action."""
    description = _LABEL.sub("", re.sub(r"[ \t]*<[^>]*>[ \t]*", " ", description).strip())  # "Description: …<br />"
    description = re.sub(r"(?<=\w)[ \t]*\n[ \t]*(?=[a-z])", " ", description)  # "Removes multiple\nmembers": one line
    sentences = [s.strip().rstrip(".!?:") for s in re.split(r"(?<=[.!?])\s|\n|;", description, maxsplit=3)]
    text, imperative = _read(sentences[0], tool_name)
    for later in sentences[1:3] if not imperative else ():
        said, verb = _read(later, "")  # "" for a sentence too long or no action: no name stands in
        if verb:
            return said, True
    return text, imperative


def _said_as_words(match: re.Match[str]) -> str:
    """A camelCase name in words, but a name made of a path ("getBoardsLabelsByIdBoardByIdLabel") stays
    itself: "get boards labels by id board by id label" is no request, and the plan gate refuses the name."""
    name = match.group(0)
    return name if len(re.findall(r"By[A-Z]", name)) > 1 else " ".join(words(name))


def _read(first: str, tool_name: str) -> tuple[str, bool]:
    """One sentence of a description as `action` says it (`tool_name` stands in for a sentence that
    is no action: a path, a usage note; "" for none)."""
    first = _SUBJECT.sub("", first)  # "This operation retrieves a …" → "retrieves a …"
    first = _ALLOWS.sub("", _USE.sub("", first))  # "Allows a developer to change the status" → "change the status"
    if re.match(r"to \w+ ", first, re.IGNORECASE) and first.split()[1].lower() in VERBS:
        first = first[3:]  # "To get all the question categories" → "get all the question categories"
    first = re.sub(r"\s*\([^)]*\)", "", first).replace("`", "")  # "get `gene-expression` objects"
    first = re.sub(r"\[(\w+)\]", r"\1", first)  # "update the [CatalogModifierList] objects"
    first = re.sub(r"\s*\[\w+(?: \w+)+\]", "", first).strip()  # a slot or note: "permissions [action name] for …"
    first = re.sub(r"\{(\w+)\}", lambda m: humanize(m.group(1)), first)  # "Update an {objectName}": a path's slot
    first = _OPERATION.sub(_said_as_words, first)  # "copySnapshotToGame" → "copy snapshot to game"
    if not first or len(first) > 140 or _PATH.fullmatch(first) or _NO_ACTION.match(first):  # "/v0.1/Kick/"
        first = " ".join(w for w in words(tool_name) if not _VERSION.fullmatch(w))  # post_v0_1_Kick: "post kick"
    first = re.sub(r"^(\w+)(?: or |/)\w+ ", r"\1 ", first)  # "Create or overwrite a file" → "Create a file"
    head, _, rest = first.partition(" ")
    low = head.lower()
    if low in THIRD_PERSON:
        return f"{THIRD_PERSON[low]} {rest}".strip(), True
    if rest and rest.split()[0].lower() not in _LINKS:  # "Resets the Error Count" → "reset the …"; not "Links of …"
        low = _base_form(low)
    if low in VERBS:
        rest = re.sub(r"^of\s+", "", rest, flags=re.IGNORECASE)  # "List of users" → "list users", not "list of users"
        return f"{low} {rest}".strip(), True
    verb = words(tool_name)[:1]
    if verb and verb[0] in VERBS and not first[:1].isupper():
        return first, True
    if not first:
        return "", False
    np = first if re.match(r"[A-Z]{2}|[A-Z]\w*[A-Z]", first) else first[0].lower() + first[1:]  # "ECHO", "eBay"
    return (np if re.match(r"(the|a|an|my|our|all|every|each)\b", np) else f"the {np}"), False


_LINKS = {"of", "for", "in", "on", "by", "from", "with", "to", "and", "or", "at", "about", "per", "that", "which",
          "are", "is"}  # fmt: skip


def _base_form(word: str) -> str:
    """A known verb's base form from its third person ("resets" → reset, "withdraws" → withdraw,
    "publishes" → publish); any other word as it is."""
    for suffix, base in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and word[: len(word) - len(suffix)] + base in VERBS:
            return word[: len(word) - len(suffix)] + base
    return word


def _nouns(name: str) -> list[str]:
    """The nouns a description may use for an argument: `account_id` → account, `flightId` → flight,
    `path` → path, file."""
    w = [x for x in words(name) if x not in ID_WORDS | {"from", "to", "max", "min"}]
    nouns = [" ".join(w)] if w else []
    if set(w) & {"path", "filename"}:
        nouns += ["file", "folder", "directory", "path"]
    if set(w) & {"to"} or name == "to":
        nouns += ["recipient"]
    return [n for n in nouns if n]


NAMED = {"city", "name"}  # arguments whose value is said bare even with spaces ("for Mindy Bauer", "in Los Angeles")


def _insert(clause: str, name: str, value: Any, rng: random.Random, bound: bool) -> tuple[str, bool]:
    """Put the value where the clause names its thing: "of a bank account" → "of bank account
    ACC-1042"; "for a city" → "for Lisbon"; a bound value becomes "that flight"."""
    texts = value if isinstance(value, list) and value and all(isinstance(v, str) for v in value) else None
    is_text = isinstance(value, str) or texts is not None  # several values of one argument: "bookings A and B"
    for noun in _nouns(name):
        pattern = re.compile(rf"\b(a|an|the|one|one's|this|that|some)\s+((?:[\w-]+\s+){{0,2}}?){re.escape(noun)}\b",
                             re.IGNORECASE)  # fmt: skip
        match = pattern.search(clause)
        if not match:
            continue
        article = "the " if match.group(1).lower() in ("a", "an", "the", "one", "some") else f"{match.group(1)} "
        said = f"{noun}s" if texts else noun
        if bound:
            replacement = f"that {noun}"
        elif is_text and set(words(name)) & {"path", "file", "filename"}:
            replacement = f"{article}{match.group(2)}{said} {say(value, name, rng)}"
        elif is_text and set(words(name)) & ID_WORDS:
            replacement = f"{match.group(2)}{said} {say(value, name, rng)}"
        elif (
            isinstance(value, dict)
            and _object(value, rng)
            and not any(isinstance(v, dict | list) for v in value.values())
        ):
            replacement = _object(value, rng)
        elif (is_text and not any(re.search(r"\s", v.strip()) for v in texts or [value])) or set(words(name)) & NAMED:
            replacement = say(value, name, rng)
        else:
            continue
        return clause[: match.start()] + replacement + clause[match.end() :], True
    return clause, False


def _money(arguments: dict[str, Any]) -> tuple[str, list[str]] | None:
    """'40.00 EUR' from an amount and its currency (`currency`, or `from_currency` when converting)."""
    amount = next((k for k, v in arguments.items() if set(words(k)) & {"amount", "sum", "price"}
                   and not set(words(k)) & {"max", "min", "maximum", "minimum"}
                   and isinstance(v, int | float) and not isinstance(v, bool)), None)  # fmt: skip
    if amount is None:
        return None
    value = arguments[amount]
    text = f"{value:,.2f}" if isinstance(value, float) else str(value)
    forms = (["currency"], ["from", "currency"], ["source", "currency"], ["base", "currency"], ["currency", "code"])
    currency = next((k for k in arguments if words(k) in forms), None)
    if currency is None:
        return text, [amount]
    return f"{text} {arguments[currency]}", [amount, currency]


_FILLER = (r"\s+between two \w+", r"\s+from one \w+ to another", r"\s+from one \w+ to another \w+")


def clause(tool_name: str, description: str, arguments: dict[str, Any], bound: dict[str, str],
           properties: dict[str, Any], rng: random.Random) -> tuple[str, bool]:  # fmt: skip
    """One call as a clause (without opener): "transfer 40.00 EUR from ACC-1042 to ACC-7731"."""
    text, imperative = action(description, tool_name)
    nouns = [noun for name in [*bound, *arguments] for noun in _nouns(name)]
    text, imperative = reword(text, imperative, nouns, rng)  # a person's words: echoes teach "call only on echoes"
    done: set[str] = set()
    if any(set(words(k)) & {"from", "to", "origin", "destination", "source", "target"} for k in arguments):
        for filler in _FILLER:  # the values say which two
            text = re.sub(filler, "", text)
    if money := _money(arguments):
        phrase_text, keys = money
        m = re.search(r"\b(money|funds|an amount|the amount|a payment|payment|an? \w+ amount)\b", text)
        text = text[: m.start()] + phrase_text + text[m.end() :] if m else f"{text} {phrase_text}"
        done.update(keys)
    for name in bound:
        text, hit = _insert(text, name, None, rng, bound=True)
        if not hit:
            text += f" using the {bound[name]} from that"
        done.add(name)
    for name, value in arguments.items():
        if name in done:
            continue
        text, hit = _insert(text, name, value, rng, bound=False)
        if hit:
            done.add(name)
    phrases = [
        phrase(k, v, rng, properties.get(k)) for k, v in arguments.items() if k not in done and v not in ({}, [], "")
    ]  # an empty object says nothing ("for  and for …")
    ends = [p for p in phrases if p.startswith(("from ", "to "))]  # "from SFO to JFK" stays together
    pair = [" ".join(sorted(ends, key=lambda p: not p.startswith("from ")))] if ends else []
    rest = pair + [p for p in phrases if p not in ends]
    text = re.sub(r"\s+", " ", text).strip()
    if rest and text.split()[-1:] == rest[0].split()[:1] and len(rest[0].split()) > 1:
        rest[0] = rest[0].partition(" ")[2]  # "describe service" + "service SRV-61804": the noun once
    if rest:
        text += " " + (" ".join(rest) if len(rest) <= 2 else listed(rest))
    return text, imperative


def merge_repeats(
    calls: list[tuple[str, str, dict[str, Any], dict[str, str], dict[str, Any]]],
) -> list[tuple[str, str, dict[str, Any], dict[str, str], dict[str, Any]]]:
    """Consecutive calls to one tool that differ in one argument only become one call whose value
    is the list of theirs, said once: "get the forecast for Paris, Rome and Oslo"."""
    out: list[tuple[str, str, dict[str, Any], dict[str, str], dict[str, Any]]] = []
    index = 0
    while index < len(calls):
        name, description, arguments, bound, props = calls[index]
        end = index + 1
        while end < len(calls) and calls[end][0] == name and not bound and not calls[end][3]:
            end += 1
        group = [c[2] for c in calls[index:end]]
        differing = {k for a in group for k in a if any(b.get(k) != a.get(k) for b in group)}
        same_keys = all(a.keys() == group[0].keys() for a in group)
        scalar = all(isinstance(a.get(k), str | int | float) for a in group for k in differing)
        if len(group) > 1 and same_keys and len(differing) == 1 and scalar:  # lists of lists read as one list
            (key,) = differing
            out.append((name, description, {**arguments, key: [a[key] for a in group]}, bound, props))
            index = end
        else:
            out.append(calls[index])
            index += 1
    return out


def request(
    calls: list[tuple[str, str, dict[str, Any], dict[str, str], dict[str, Any]]], seed: int | str, ordered: bool = False
) -> str:
    """The user's message for these calls: (tool name, description, arguments, bound argument →
    what it is, argument schemas) each. Several calls become sentences that follow each other
    ("then" only when `ordered` or a call uses an earlier one's result)."""
    rng = random.Random(f"phrasing:{seed}")
    sentences = []
    for index, (name, description, arguments, bound, props) in enumerate(merge_repeats(calls)):
        text, imperative = clause(name, description, arguments, bound, props, rng)
        if index == 0:
            sentence = rng.choice(IMPERATIVE if imperative else NOUN).format(a=text)
        elif imperative:
            sentence = rng.choice(THEN if ordered or bound else ALSO).format(a=text)
        else:
            sentence = f"I'd also like {text}."
        sentences.append(sentence[0].upper() + sentence[1:])
    return " ".join(sentences)
