"""Strings without a large LM: the seeded draws a value starts from (a coherent person, dates,
ids in the spec's shape) and the free strings an argument's schema, description and name call for
("Possible values: E355, VX680" -> VX680, `owner` -> a user name, `season` -> a year). `Values`
(`values`) adds numbers, arrays and objects on top.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from typing import Any

from inftool.agents.patterns import example_of, from_pattern, id_prefix, like, listed_values, range_of, singular, words
from inftool.agents.value_pools import (
    AIRPORTS,
    ANCHOR,
    CITIES,
    CURRENCIES,
    FOLDERS,
    ID_ENTITIES,
    ID_WORDS,
    LANGUAGES,
    MEMOS,
    NAMES,
    PAST_CONTEXT,
    PERSON_ENTITIES,
    PROVIDERS,
    QUERIES,
    ROLE_WORDS,
    SENTENCES,
    SLUG_TAILS,
    STEMS,
    TEXT_WORDS,
    TICKERS,
    TITLES,
    WEATHER,
    WORDS,
    _Fake,
)

CHAIN_WORDS = {"blockchain", "wallet", "crypto", "cryptocurrency", "bitcoin", "btc", "eth", "ethereum", "testnet",
               "mainnet", "neblio", "nebl", "token", "coin", "erc20", "evm", "ltc", "litecoin", "doge"}  # fmt: skip
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
NOT_IDS = {"android", "hybrid", "liquid", "pyramid", "prepaid", "postpaid", "invalid", "unpaid", "orchid", "madrid"}


def joined_id(word: str) -> bool:
    """A name written as one lowercase word that is an id ("gameid", "teamid"); "bid" or "android" is not."""
    return word.endswith("id") and len(word) >= 6 and word not in NOT_IDS


class StringDraws:
    """Seeded draws of people, dates, ids and free strings (one episode's, or one purpose's within it)."""

    def __init__(self, seed: int | str, locale: str = "en_US") -> None:
        self.seed = seed
        self.rng = random.Random(f"values:{seed}")
        self.fake = _Fake(locale, f"faker:{seed}")
        self._person: dict[str, str] | None = None
        self.hints: dict[str, str] = {}

    # ---- people and places -------------------------------------------------------------------
    def person(self) -> dict[str, str]:
        """One coherent person per object (first and last name match the email)."""
        if self._person is None:
            first, last = self.fake.first_name(), self.fake.last_name()
            domain = self.rng.choice(("example.com", "example.org", "mail.example.net"))
            sep = self.rng.choice((".", "", "_"))
            self._person = {"first": first, "last": last, "email": f"{first}{sep}{last}@{domain}".lower()}
        return self._person

    def date(self, kind: str = "future") -> dt.date:
        if kind == "past":
            return ANCHOR - dt.timedelta(days=self.rng.randint(3, 120))
        if kind == "birth":
            return dt.date(self.rng.randint(1955, 2004), self.rng.randint(1, 12), self.rng.randint(1, 28))
        return ANCHOR + dt.timedelta(days=self.rng.randint(3, 150))

    def between(self, low: dt.date, high: dt.date) -> dt.date:
        return low + dt.timedelta(days=self.rng.randint(0, max(0, (high - low).days)))

    def timestamp(self, kind: str = "future") -> str:
        return f"{self.date(kind).isoformat()}T{self.clock()}:00Z"

    def clock(self) -> str:
        return f"{self.rng.randint(7, 20):02d}:{self.rng.choice((0, 15, 30, 45)):02d}"

    def learn(self, schemas: list[dict[str, Any]]) -> None:
        """Remember the id examples other tools' schemas show (`account_id: e.g. ACC-1001`), so an
        argument without one (`from_account`) still gets an id of that shape."""
        for schema in schemas:
            for name, sub in (schema.get("properties") or {}).items():
                example = example_of(sub) if isinstance(sub, dict) else None
                if example and re.search(r"\d", example):
                    stem = [x for x in words(name) if x not in ID_WORDS | ROLE_WORDS]
                    if stem:
                        self.hints.setdefault(" ".join(stem), example)

    def identifier(self, stem: list[str], schema: dict[str, Any]) -> str:
        example = example_of(schema) or self.hints.get(" ".join(stem))
        if example and re.search(r"\d", example):
            return like(example, self.rng)
        joined = "".join(stem)
        if "flight" in joined:
            return f"{self.rng.choice(('UA', 'LH', 'BA', 'AF', 'DL', 'KL', 'IB', 'TP'))}{self.rng.randint(100, 2999)}"
        if schema.get("format") == "uuid" or "uuid" in stem:
            return str(self.fake.uuid4())
        return f"{id_prefix(stem)}-{self.rng.randint(1000, 99999)}"

    # ---- strings -----------------------------------------------------------------------------
    def text(self, name: str, context: list[str]) -> str:
        """Free text for a field (the tool server's LM may replace it)."""
        w = set(words(name))
        if w & {"memo", "note", "notes", "reference"}:
            return self.rng.choice(MEMOS)
        if w & {"subject", "title", "headline"}:
            return self.rng.choice(TITLES)
        where = set(context)
        if "description" in w and where & {"transaction", "transactions", "payment", "payments"}:
            how = self.rng.choice(("Card payment at", "Transfer to", "Direct debit", "Refund from"))
            return f"{how} {self.fake.company()}"
        if "description" in w and where & {"hotel", "hotels"}:
            return (
                f"{self.rng.choice(('Quiet', 'Modern', 'Family-run', 'Boutique'))} hotel near the "
                + self.rng.choice(("old town", "main station", "harbour", "city centre"))
            )
        return self.rng.choice(SENTENCES)

    def string(self, name: str, schema: dict[str, Any], context: list[str]) -> str:
        w = words(name)
        ws = set(w)
        desc = str(schema.get("description") or "").lower()
        fmt = str(schema.get("format") or "").lower()
        joined = "".join(w)
        entity = (set(context) | ws) & PERSON_ENTITIES
        if (
            len(w) == 1
            and len(w[0]) > 3
            and w[0].endswith("id")
            and (re.search(r"\b(?:id|identifier|name)\b", desc) or joined_id(w[0]))
        ):  # "gameid" with no description is a game's id, not "gameid marketing"
            if "name" in desc.split():
                return self.fake.user_name()
            return self.identifier([w[0][:-2]], schema)
        if w and w[-1] in {"id", "ids", "uuid", "gid"} and fmt != "uuid":
            stem = [x for x in w if x not in ID_WORDS | ROLE_WORDS] or [singular(x) for x in context[-1:]] or ["ref"]
            return self.identifier(stem, schema)
        if fmt == "email" or ws & {"email", "mail"} or (ws == {"to"} and "email" in context):
            return self.person()["email"]
        if (
            fmt == "date"
            or ws & {"date", "day", "since", "until", "birthday", "dob", "deadline", "due"}
            or ("check" in ws and ws & {"in", "out"})
        ):
            past = ws & {"since", "from", "start"} or set(context) & PAST_CONTEXT
            kind = "birth" if ws & {"birthday", "dob", "birth"} else "past" if past else ""
            return self.date(kind or "future").isoformat()
        if fmt in ("date-time", "datetime") or ws & {"datetime", "timestamp"} or w[-1:] == ["at"]:
            return self.timestamp("past" if w[-1:] == ["at"] or set(context) & PAST_CONTEXT else "future")
        if fmt == "time" or w[-1:] == ["time"]:
            return self.clock()
        if fmt == "uuid":
            return str(self.fake.uuid4())
        if fmt in ("uri", "url") or ws & {"url", "link", "website", "homepage", "uri"}:
            return f"https://www.{self.fake.domain_name()}/{self.rng.choice(('about', 'pricing', 'blog', 'docs'))}"
        if fmt in ("hostname",) or ws & {"domain", "hostname", "host"}:
            return self.fake.domain_name()
        if fmt == "ipv4" or ws & {"ip", "ipv4"}:
            return self.fake.ipv4_public()
        if ws & {"iata", "airport"} or "iata" in desc or "airport" in desc:
            return self.rng.choice(AIRPORTS)
        if ws & {"currency"}:
            return self.rng.choice(CURRENCIES)
        if ws & {"country"}:
            return self.fake.country_code() if ws & {"code", "iso"} else self.fake.country()
        if ws & {"language", "lang", "locale"}:
            code = self.rng.choice(list(LANGUAGES))
            return code if ws & {"code", "locale", "lang"} else LANGUAGES[code]
        if ws & {"city", "town", "destination", "origin", "location", "place"} and not ws & ID_WORDS:
            return self.rng.choice(CITIES)
        if ws & {"state", "province", "region"} and not ws & {"status"}:
            return self.fake.state()
        if ws & {"address", "street"}:
            return self.address(ws, desc, context)
        if ws & {"zip", "postal", "postcode", "zipcode"}:
            return self.fake.postcode()
        if ws & {"phone", "mobile", "tel", "telephone"}:
            return self.fake.numerify("+1-###-###-####").replace("+1-0", "+1-5")
        if (ws & {"first", "given", "firstname"} and ws & {"name", "firstname"}) or joined == "firstname":
            return self.person()["first"]
        if ws & {"last", "surname", "family", "lastname"} or joined == "lastname":
            return self.person()["last"]
        if ws & {"username", "login", "handle"} or joined == "username":
            return self.fake.user_name()
        if ws & {"company", "organization", "organisation", "employer", "vendor", "merchant"}:
            return self.fake.company()
        if "name" in ws and set(context) & {"file", "files", "entry", "entries", "directory", "folder"}:
            return f"{self.rng.choice(STEMS)}.{self.rng.choice(('md', 'txt', 'csv', 'json', 'pdf'))}"
        if "name" in ws and (entity or ws & {"full", "person"} or not context):
            return f"{self.person()['first']} {self.person()['last']}"
        if ws & {"path", "file", "filename", "folder", "directory", "dir"}:
            stem = self.rng.choice(STEMS)
            if (ws | set(context)) & {"folder", "directory", "dir", "folders", "directories"}:
                return f"{self.rng.choice(FOLDERS)}/{self.rng.choice(NAMES).lower()}"
            return f"{self.rng.choice(FOLDERS)}/{stem}.{self.rng.choice(('md', 'txt', 'csv', 'json'))}"
        if ws & {"query", "search", "keyword", "keywords", "q", "term", "topic"}:
            return self.rng.choice(QUERIES)
        if ws & {"color", "colour"}:
            return self.fake.color_name()
        if ws & {"job", "occupation", "role", "position"}:
            return self.fake.job()
        if ws & {"weather", "condition", "conditions", "forecast"}:
            return self.rng.choice(WEATHER)
        if ws & {"status"}:
            return self.rng.choice(("active", "pending", "completed"))
        if said := self.described(desc, schema) or self.common_string(w, desc, schema):
            return said
        if named := self.named_string(w):
            return named
        if ws & {"tag", "label", "category", "type", "kind"}:
            return self.rng.choice(WORDS)
        if ws & TEXT_WORDS or ws & {"subject", "title", "headline"}:
            return self.text(name, context)
        if w and (w[-1] in ID_WORDS or "id" in ws or w[-1] in ID_ENTITIES):
            stem = [x for x in w if x not in ID_WORDS | ROLE_WORDS] or [singular(x) for x in context[-1:]] or ["ref"]
            return self.identifier(stem, schema)
        if "name" in ws:
            thing = (context[-1:] or ["project"])[0]
            return f"{self.rng.choice(NAMES)} {singular(thing).replace('_', ' ').title()}"
        return self.rng.choice(WORDS)

    def address(self, ws: set[str], desc: str, context: list[str]) -> str:
        """What an address is where it is asked for: a wallet's on a blockchain ("Your Neblio Testnet
        Address" -> not "8167 Davis Pass"), a host's IP, else a street."""
        said = ws | set(context) | set(re.findall(r"[a-z0-9]+", desc))
        if said & CHAIN_WORDS:
            if said & {"eth", "ethereum", "erc20", "evm", "polygon", "bsc"}:
                return "0x" + self.fake.sha1()  # 40 hex digits, as the tokens here are drawn
            return self.rng.choice("13") + "".join(self.rng.choice(BASE58) for _ in range(33))
        if said & {"ip", "ipv4", "host", "server"}:
            return self.fake.ipv4_public()
        if "email" in said:  # "Email address of the user" (a name with "email" is drawn before this)
            return self.person()["email"]
        return self.fake.street_address()

    def described(self, desc: str, schema: dict[str, Any]) -> str | None:
        """What the spec says a free string holds, before guessing from its name: a value its
        description lists, a number in the range it gives, its example redrawn, a time or a count
        (a bare Faker word there read as "season around", "hour human", "type better")."""
        if choices := listed_values(str(schema.get("description") or "")):
            return self.rng.choice(choices)
        if bounds := range_of(desc):
            return str(self.rng.randint(*bounds))
        if example := example_of(schema):
            return like(example, self.rng)
        if re.search(r"\b(?:timespan|timestamp)\b", desc):
            return self.timestamp("past")
        if re.search(r"\b(?:number of|how many|maximum number)\b", desc):  # a count the spec types as a string
            return str(self.rng.randint(1, 60))
        return None

    def common_string(self, w: list[str], desc: str, schema: dict[str, Any]) -> str | None:
        """Strings whose name or format says what they are: a year, a password, a file to upload, a
        JSONP callback, a SID, a serial, a count or page typed as a string."""
        ws, joined, fmt = set(w), "".join(w), str(schema.get("format") or "")
        if ws & {"year", "season"} or re.search(r"\byear\b", desc):
            return str(self.rng.randint(2015, 2026))
        if fmt == "password" or ws & {"password", "passwd", "passphrase"}:
            return self.fake.password(length=12)
        if fmt in ("binary", "byte", "base64"):  # a file to upload: name it
            image = "image" in ws or "image" in desc
            return f"{self.rng.choice(STEMS)}.{self.rng.choice(('png', 'jpg') if image else ('pdf', 'csv', 'png'))}"
        if w[-1:] and w[-1] in {"offset", "limit", "count", "page", "minutes", "index", "revision", "pid", "pk"}:
            return str(self.rng.randint(1, 60))
        if "callback" in ws:  # JSONP
            return self.rng.choice(("handleResponse", "jsonpCallback", "processData", "onLoaded"))
        if "gender" in ws:
            return self.rng.choice(("female", "male"))
        if "country" in joined and joined.endswith("code"):  # countrycode
            return self.fake.country_code()
        if "format" in ws and not re.search(r"date|time", desc):
            return self.rng.choice(("json", "xml", "csv"))
        if "sid" in ws:  # Twilio's: two letters and 32 hex digits
            return f"{self.rng.choice(('AC', 'DE', 'SM', 'KD'))}{self.fake.sha1()[:32]}"
        if "serial" in ws:
            return self.fake.bothify("Q2??-####-??##").upper()
        return None

    def named_string(self, w: list[str]) -> str | None:
        """Free strings whose name says their shape: an owner is a user name, a repo a slug, a
        token looks like one (a bare Faker word there reads as "owner dog, repo change")."""
        ws = set(w)
        if ws & {"sort", "direction"} or w == ["order"]:
            return self.rng.choice(("asc", "desc"))
        if w[-1:] and w[-1] in ID_ENTITIES | ID_WORDS:  # "project", "account", "key": ids in the spec's shape
            return None
        if ws & {"owner", "org", "organisation", "namespace", "workspace", "team", "author", "creator"}:
            return self.fake.user_name()
        if ws & {"repo", "repository", "slug", "app", "application", "service", "package", "bucket"}:
            return f"{self.rng.choice(WORDS)}-{self.rng.choice(SLUG_TAILS)}"
        if ws & {"token", "secret", "apikey", "hash", "sha", "cursor"}:
            return self.fake.sha1()[: self.rng.choice((16, 20, 24))]
        if ws & {"symbol", "ticker"}:
            return self.rng.choice(TICKERS)
        if ws & {"version", "release"} and not ws & {"name", "notes"}:
            return f"{self.rng.randint(1, 4)}.{self.rng.randint(0, 12)}.{self.rng.randint(0, 9)}"
        if ws & {"provider", "platform"}:
            return self.rng.choice(PROVIDERS)
        if ws & {"mime", "content", "media"} and ws & {"type"}:
            return self.rng.choice(("application/json", "text/csv", "application/pdf", "image/png"))
        return None

    def fit_string(self, value: str, schema: dict[str, Any], name: str) -> str:
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                ok = re.search(pattern, value) is not None
            except re.error:
                ok = True
            if not ok:
                value = self._from_pools(name, pattern) or from_pattern(pattern, self.rng) or value
        low, high = int(schema.get("minLength") or 0), schema.get("maxLength")
        if isinstance(high, int) and len(value) > high:
            value = value[:high].rstrip() or value[:high]
        if len(value) < low:
            value = value + "".join(self.rng.choice(string.ascii_lowercase) for _ in range(low - len(value)))
        return value

    def _from_pools(self, name: str, pattern: str) -> str | None:
        """A real code that fits the pattern (an airport for `origin: ^[A-Z]{3}$`), before random letters."""
        ws = set(words(name))
        pools: list[tuple[str, ...]] = []
        if ws & {"origin", "destination", "airport", "from", "to", "departure", "arrival", "iata"}:
            pools.append(AIRPORTS)
        if ws & {"currency"}:
            pools.append(CURRENCIES)
        if ws & {"city", "location"}:
            pools.append(CITIES)
        for pool in pools:
            try:
                fits = [v for v in pool if re.search(pattern, v)]
            except re.error:
                return None
            if fits:
                return self.rng.choice(fits)
        return None
