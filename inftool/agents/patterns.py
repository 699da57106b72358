"""Names and shapes: an argument's name split into words, and new strings in the shape a spec shows.

`words` and `singular` read names (`flightId` → flight, id). `example_of` finds the example a schema
shows ("e.g. ACC-1001"), `like` draws a new value of that shape (`ACC-4821`), `from_pattern` writes a
string a regex `pattern` matches, and `id_prefix` makes an id's letters from its entity (`account` → ACC).
"""

from __future__ import annotations

import functools
import random
import re
import string
from typing import Any

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# "like" only before a quoted value: "the report you would like to refresh" shows no example ("to")
_EXAMPLE = re.compile(
    r"(?:e\.g\.|eg\.|for example|for instance|such as|examples?:|like(?=\s*(?:<code>)?['\"`]))"
    r"\s*[:,]?\s*(?:<code>)?['\"`]?([A-Za-z0-9][\w\-./:@+]*)",
    re.IGNORECASE,
)
_PROSE = {"a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "and", "or", "this", "that", "these", "those",
          "it", "its", "you", "your", "all", "any", "some", "if", "when", "is", "are", "be", "as", "with"}  # fmt: skip
_LISTED = re.compile(
    r"(?:(?:possible|valid|allowed|accepted|supported) values?(?: are| is)?\s*:|must be one of|one of:)\s*([^.;\n]+)",
    re.IGNORECASE,
)
_CAPS = re.compile(r"\(([A-Z][A-Z0-9_]+(?:,\s*[A-Z][A-Z0-9_]+)+)\)|\b([A-Z]{2,}) or ([A-Z]{2,})\b")
_QUOTED = re.compile(r"(?:one of|can be|either|values?)\W[^.]*?`([^`\s]{1,30})`[^.]*?`([^`\s]{1,30})`")
_RANGE = re.compile(r"\b(-?\d{1,6}) to (-?\d{1,6})\b(?! *(?:char|byte|digit|letter))", re.IGNORECASE)


def words(name: str) -> list[str]:
    """`flightId`, `from_account`, `max-results` → their lower-case words."""
    return list(_words(name))


@functools.lru_cache(maxsize=8192)  # the same few names, asked for again and again while an episode is built
def _words(name: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[^a-zA-Z0-9]+", _CAMEL.sub("_", name).lower()) if w)


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def example_of(schema: dict[str, Any]) -> str | None:
    """The example a spec shows for a string: `example`, `examples`, or "e.g. ACC-1001" in its description."""
    for key in ("example", "x-example"):
        if isinstance(schema.get(key), str | int | float) and not isinstance(schema.get(key), bool):
            return str(schema[key])
    examples = schema.get("examples")
    if isinstance(examples, list) and examples and isinstance(examples[0], str | int | float):
        return str(examples[0])
    match = _EXAMPLE.search(str(schema.get("description") or ""))
    example = match.group(1).rstrip(".,;)") if match else None
    return None if example is None or example.lower() in _PROSE else example  # "such as the ..." is prose


def listed_values(description: str) -> list[str]:
    """The values a description lists for a string that has no enum: "Possible values: E355, VX680",
    "(DEFAULT, INFO, WARN)", "ASC or DESC", "can be `Patient`, `Study`" (single tokens; not "none")."""
    return [v for v in _listed(description) if v.lower() not in {"none", "null", "nil", "undefined", "empty"}]


def _listed(description: str) -> list[str]:
    if match := _LISTED.search(description):
        found = [v.strip(" `'\"") for v in re.split(r",|/|\bor\b|\band\b", match.group(1))]
        found = [v for v in found if re.fullmatch(r"[\w\-./+]{1,30}", v)]
        if len(found) >= 2:
            return found
    if match := _CAPS.search(description):
        return re.split(r",\s*", match.group(1)) if match.group(1) else [match.group(2), match.group(3)]
    if match := _QUOTED.search(description):
        return re.findall(r"`([^`\s]{1,30})`", description)
    # codes with their meanings: "(1: 8-18, 2: 19-25)", "(1 - transit, 2 - visit)"
    codes = re.findall(r"(?:^|[(,;]\s*)(\d{1,3})\s*(?::|=| - )\s*\w", description)
    return codes if len(codes) >= 2 else []


def range_of(description: str) -> tuple[int, int] | None:
    """A numeric range a string's description gives ("from 0 to 23", "Preseason 0 to 4")."""
    match = _RANGE.search(description)
    low, high = (int(match.group(1)), int(match.group(2))) if match else (0, -1)
    return (low, high) if low <= high else None


def like(example: str, rng: random.Random) -> str:
    """A new value of the example's shape: the parts holding digits are redrawn (digits as digits,
    letters as letters of the same case, hex as hex), letter-only parts are kept as prefixes
    (`ACC-1001` → `ACC-4821`, `ord_9f3a` → `ord_2c7b`) and masks are filled (`xxxx` → `3f0a`)."""
    if re.fullmatch(r"(?:19|20)\d\d", example):  # a year stays a plausible year, not 8351
        return str(rng.randint(2015, 2026))
    parts = re.split(r"([\-_./:@ ])", example)
    hexes = any(re.fullmatch(r"(?=.*\d)(?=.*[a-fA-F])[0-9a-fA-F]+", part) for part in parts)  # 14ab36ed
    out = []
    for part in parts:
        if re.fullmatch(r"[xX#*]{2,}", part):  # a mask (14ab36ed-xxxx-…, ####): its digits are the value's
            out.append("".join(rng.choice("0123456789abcdef" if hexes else string.digits) for _ in part))
            continue
        if not any(c.isdigit() for c in part):
            out.append(part)
            continue
        hexlike = re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", part) is not None
        chars = []
        for index, char in enumerate(part):
            if char.isdigit():
                chars.append(rng.choice(string.digits[1:] if index == 0 and len(part) > 1 else string.digits))
            elif char.isalpha():
                pool = "abcdef" if hexlike else string.ascii_lowercase
                chars.append(rng.choice(pool.upper() if char.isupper() else pool))
            else:
                chars.append(char)
        out.append("".join(chars))
    return "".join(out)


def from_pattern(pattern: str, rng: random.Random) -> str | None:
    """A string that the regex `pattern` matches (JSON Schema: searched), or None for regexes this
    cannot write (lookarounds, back-references it cannot satisfy)."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
    except Exception:
        return None
    out = _emit(list(parsed), rng, {})
    if out is None:
        return None
    try:
        return out if re.search(pattern, out) else None
    except re.error:
        return None


def _category(cat: Any) -> str:
    from re import _constants as c  # type: ignore[attr-defined]

    table = {c.CATEGORY_DIGIT: string.digits, c.CATEGORY_WORD: string.ascii_letters + string.digits,
             c.CATEGORY_SPACE: " "}  # fmt: skip
    negated = {c.CATEGORY_NOT_DIGIT: string.digits, c.CATEGORY_NOT_WORD: string.ascii_letters + string.digits + "_",
               c.CATEGORY_NOT_SPACE: " \t\n"}  # fmt: skip
    if cat in table:
        return table[cat]
    if cat in negated:
        return "".join(ch for ch in string.ascii_letters + string.digits + "-_." if ch not in negated[cat])
    return string.ascii_letters


def _charset(items: list, rng: random.Random) -> str | None:
    from re import _constants as c  # type: ignore[attr-defined]

    pool: list[str] = []
    negate = False
    for op, arg in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            pool.append(chr(arg))
        elif op is c.RANGE:
            lo, hi = arg
            pool.extend(chr(x) for x in range(lo, min(hi, lo + 400) + 1))
        elif op is c.CATEGORY:
            pool.extend(_category(arg))
    if negate:
        pool = [ch for ch in string.ascii_letters + string.digits if ch not in set(pool)]
    return rng.choice(pool) if pool else None


def _emit(items: list, rng: random.Random, groups: dict[int, str], depth: int = 0) -> str | None:
    from re import _constants as c  # type: ignore[attr-defined]

    if depth > 20:
        return None
    out = []
    for op, arg in items:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            out.append(next(ch for ch in "abcxyz0123" if ord(ch) != arg))
        elif op is c.ANY:
            out.append(rng.choice(string.ascii_lowercase))
        elif op is c.IN:
            ch = _charset(list(arg), rng)
            if ch is None:
                return None
            out.append(ch)
        elif op is c.CATEGORY:
            out.append(rng.choice(_category(arg)))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            high = low + 4 if high is c.MAXREPEAT or high > low + 12 else high
            for _ in range(rng.randint(low, max(low, high))):
                piece = _emit(list(sub), rng, groups, depth + 1)
                if piece is None:
                    return None
                out.append(piece)
        elif op is c.SUBPATTERN:
            group, _, _, sub = arg
            piece = _emit(list(sub), rng, groups, depth + 1)
            if piece is None:
                return None
            if group is not None:
                groups[group] = piece
            out.append(piece)
        elif op is c.BRANCH:
            piece = _emit(list(rng.choice(arg[1])), rng, groups, depth + 1)
            if piece is None:
                return None
            out.append(piece)
        elif op is c.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # anchors add nothing; lookarounds are checked by the final search
        else:
            return None
    return "".join(out)


def id_prefix(stem: list[str]) -> str:
    """`account` → ACC, `booking` → BKN-like three letters: the first letter and the next consonants."""
    word = "".join(stem) or "ref"
    letters = word[0] + "".join(ch for ch in word[1:] if ch not in "aeiou")
    return (letters if len(letters) >= 3 else word)[:3].upper()
