"""Realistic values without a large LM: schema- and name-aware generators built on Faker.

`Values(seed)` draws a value for one schema, guided by what the schema says (enum, const, format,
pattern, bounds, examples) and by what the argument is called and described as (a person's name,
an email, a city, a date, an amount, a currency code, an id in the shape the spec shows). The same
seed gives the same values. A 135M model asked for an `account_id` writes `get_account_balance_2038`;
this writes `ACC-4821` when the description says "e.g. ACC-1001". People, dates, ids and free strings
are drawn in `strings` (the base class), the pools and the shared Faker are in `value_pools`, the name
and pattern helpers (`words`, `example_of`, `like`) in `patterns`.
"""

from __future__ import annotations

import re
from typing import Any

from inftool.agents.patterns import singular, words
from inftool.agents.strings import StringDraws, joined_id
from inftool.agents.value_pools import PAIRS, WORDS

COORDINATES = {"lat", "latitude", "lon", "lng", "longitude"}
BOX = {"north", "south", "east", "west"}  # a bounding box's sides: latitudes, longitudes (not "west 383.99")
WHOLE = {"page", "per", "limit", "count", "quantity", "qty", "offset", "start", "index", "nights", "guests", "adults",
         "people", "passengers", "rooms", "seats", "copies", "items", "year", "month"}  # fmt: skip
EPOCH_2025, EPOCH_2027 = 1735689600, 1798761600  # Unix times of 2025-01-01 and 2027-01-01


class Values(StringDraws):
    """Seeded value generators for one episode (or one purpose within it: pass a `tag`)."""

    def child(self, tag: str) -> Values:
        child = Values(f"{self.seed}/{tag}")
        child.hints = self.hints
        return child

    def amount(self, low: float, high: float, integer: bool) -> float | int:
        nice = [v for v in (12, 15, 20, 25, 30, 40, 45, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300, 350, 450,
                            500, 750, 1200, 1500, 2500) if low <= v <= high]  # fmt: skip
        if nice and self.rng.random() < 0.7:
            value: float = self.rng.choice(nice)
            if not integer and self.rng.random() < 0.35 and value - 0.01 >= low:
                value = round(value - 0.01, 2)  # 49.99
            return int(value) if integer else float(value)
        value = self.rng.uniform(low, high)
        return round(value) if integer else round(value, 2)

    # ---- numbers -----------------------------------------------------------------------------
    def number(self, name: str, schema: dict[str, Any], integer: bool) -> int | float:
        ws = set(words(name))
        # "User id 17.11", "per page 1.52" read wrong: ids and counts are whole even where the spec says number
        integer = integer or bool(ws & ({"id", "ids"} | WHOLE)) or joined_id(name.lower())
        low, high = schema.get("minimum"), schema.get("maximum")
        if (epoch := self._epoch(ws, schema)) is not None:
            return epoch
        ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        step = 1 if integer else 0.01
        if isinstance(ex_low, int | float) and not isinstance(ex_low, bool):
            low = max(low, ex_low + step) if isinstance(low, int | float) else ex_low + step
        if isinstance(ex_high, int | float) and not isinstance(ex_high, bool):
            high = min(high, ex_high - step) if isinstance(high, int | float) else ex_high - step
        lo_d, hi_d = self._number_range(ws, integer)
        lo = float(low) if isinstance(low, int | float) else lo_d
        hi = float(high) if isinstance(high, int | float) else max(hi_d, lo + 1)
        if lo > hi:
            lo, hi = hi, lo
        d_lo, d_hi = max(lo, lo_d), min(hi, hi_d)  # the name's typical range, inside the schema's bounds
        if d_lo <= d_hi:
            lo, hi = d_lo, d_hi
        if ws & {"amount", "price", "cost", "total", "balance", "fee", "salary", "budget", "payment", "sum", "value"}:
            value: int | float = self.amount(lo, hi, integer)
        elif ws & {"limit", "max", "results", "top", "k", "per"} and integer and not ws & {"bytes", "size"}:
            nice = [v for v in (5, 10, 20, 25, 50) if lo <= v <= hi]
            value = self.rng.choice(nice) if nice else self.rng.randint(int(lo), int(hi))
        elif integer:
            value = self.rng.randint(int(-(-lo // 1)), int(hi // 1)) if int(-(-lo // 1)) <= int(hi // 1) else int(lo)
        else:
            value = round(self.rng.uniform(lo, hi), 4 if ws & (COORDINATES | BOX) else 2)
        multiple = schema.get("multipleOf")
        if isinstance(multiple, int | float) and multiple > 0 and not isinstance(multiple, bool):
            value = round(round(value / multiple) * multiple, 6)
            value = int(value) if integer else value
        return value

    def _epoch(self, ws: set[str], schema: dict[str, Any]) -> int | None:
        """A date given as a number is a Unix time (1767225600; in ms where the spec says so), not 57;
        None for any other number or where the schema's bounds leave no room for one."""
        desc = str(schema.get("description") or "").lower()
        point = ws & {"date", "timestamp", "epoch"} or re.search(r"\b(?:epoch|unix|timestamp)", desc)
        if not point or ws & {"zone", "timezone", "offset", "ttl", "duration", "span"}:
            return None  # a time span or zone is not a point in time
        ms = "milli" in desc or bool(ws & {"ms", "millis"})
        value = self.rng.randrange(EPOCH_2025, EPOCH_2027, 3600) * (1000 if ms else 1)
        low, high = schema.get("minimum"), schema.get("maximum")
        above = isinstance(high, int | float) and high < value
        below = isinstance(low, int | float) and low > value
        return None if above or below else value

    @staticmethod
    def _number_range(ws: set[str], integer: bool) -> tuple[float, float]:
        ranges = [
            ({"year"}, (2020, 2027)), ({"month"}, (1, 12)), ({"day"}, (1, 28)), ({"hour"}, (0, 23)),
            ({"minute", "minutes"}, (5, 90)), ({"age"}, (18, 80)), ({"rating", "stars", "score"}, (1, 5)),
            ({"percent", "percentage"}, (1, 100)), ({"lat", "latitude", "north", "south"}, (-60, 70)),
            ({"lon", "lng", "longitude", "east", "west"}, (-150, 150)), ({"temperature", "temp"}, (-5, 35)),
            ({"nights", "guests", "adults", "people", "passengers", "rooms", "seats"}, (1, 6)),
            ({"quantity", "count", "qty", "copies", "items"}, (1, 10)), ({"page"}, (1, 5)),
            ({"bytes", "size"}, (200, 90000)), ({"limit", "max", "results", "top", "k", "per"}, (5, 50)),
            ({"radius", "distance", "km", "miles"}, (1, 50)), ({"duration", "days", "weeks"}, (1, 14)),
            ({"rate"}, (0.5, 1.5) if not integer else (1, 10)),
            ({"amount", "price", "cost", "total", "balance", "fee", "payment", "sum", "value"}, (10, 2500)),
            ({"salary", "budget"}, (1000, 90000)),
        ]  # fmt: skip
        for names, span in ranges:
            if ws & names:
                return float(span[0]), float(span[1])
        return (1.0, 100.0) if integer else (1.0, 500.0)

    # ---- any schema --------------------------------------------------------------------------
    def value(self, name: str, schema: Any, context: list[str] | None = None, depth: int = 0) -> Any:
        """A value for `schema`; `name` is the argument's (or field's) name, `context` the names of
        the objects and tool around it (`["create", "booking", "passenger"]`)."""
        context = list(context or [])
        if not isinstance(schema, dict) or depth > 6:
            return self.rng.choice(WORDS)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf"):
            options = [o for o in schema.get(key) or [] if isinstance(o, dict) and o.get("type") != "null"]
            if options:
                return self.value(name, {**{k: v for k, v in schema.items() if k != key}, **options[0]}, context, depth)
        if isinstance(schema.get("allOf"), list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged.update(part if isinstance(part, dict) else {})
            return self.value(name, merged, context, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind in ("integer", "number"):
            return self.number(name, schema, kind == "integer")
        if kind == "array":
            return self.array(name, schema, context, depth)
        if kind == "object":
            return self.object(schema, [*context, name] if name else context, depth)
        if kind == "null":
            return None
        named = words(name)
        if COORDINATES & set(named) and len(named) <= 2:  # a coordinate as text: "48.8566", not a word
            return self.fit_string(str(self.number(name, {}, integer=False)), schema, name)
        return self.fit_string(self.string(name, schema, context), schema, name)

    def array(self, name: str, schema: dict[str, Any], context: list[str], depth: int) -> list[Any]:
        low = int(schema.get("minItems") or 1)
        high = int(schema.get("maxItems") or max(low, 3))
        count = self.rng.randint(min(low, high), max(min(low, high), min(high, low + 2)))
        item_name = "_".join(singular(w) for w in words(name)) or "item"
        items: list[Any] = []
        for _ in range(count * 3):
            if len(items) >= count:
                break
            self._person = None  # one person per item
            item = self.value(item_name, schema.get("items") or {"type": "string"}, context, depth + 1)
            if item not in items or not schema.get("uniqueItems"):
                items.append(item)
        self._person = None
        return items

    def object(self, schema: dict[str, Any], context: list[str], depth: int, fill: str = "required") -> dict:
        props = schema.get("properties")
        if not isinstance(props, dict):
            return {}
        required = [r for r in schema.get("required") or [] if r in props]
        keys = list(props) if fill == "all" or not required else required
        saved, self._person = self._person, None
        out = {key: self.value(key, props[key], context, depth + 1) for key in keys}
        self._person = saved
        return out

    def arguments(self, tool_name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Arguments for a call of `tool_name` with the (already narrowed) argument schema: every
        property the schema lists."""
        self._person = None
        props = schema.get("properties") or {}
        out = {key: self.value(key, sub, words(tool_name), 0) for key, sub in props.items()}
        for first, second in PAIRS:  # from and to differ: no transfer from an account to itself
            for key in props:
                other = next((k for k in props if words(k) == [second if x == first else x for x in words(key)]), None)
                if other and other != key and key in out and other in out:
                    for _ in range(8):
                        if out[other] != out[key]:
                            break
                        out[other] = self.value(other, props[other], words(tool_name), 0)
        self._person = None
        return out
