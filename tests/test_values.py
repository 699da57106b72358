"""Value generators: realistic, schema-valid values for names, emails, cities, dates, amounts,
currencies and ids in the spec's own format — the same under the same seed."""

from __future__ import annotations

import datetime as dt
import random
import re
from email.utils import parseaddr
from pathlib import Path

import pytest

from inftool.agents.grounding import placeholders
from inftool.agents.patterns import from_pattern, like
from inftool.agents.user_simulator import required_only
from inftool.agents.values import Values
from inftool.specs import ToolSpec, load_toolset
from inftool.specs.schema import validation_error

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"
TOOLSETS = [
    load_toolset("travel", SPECS / "travel.openapi.yaml"),
    load_toolset("finance", SPECS / "finance.openai.json"),
    load_toolset("workspace", SPECS / "workspace.mcp.json"),
]
# ISO 4217 active codes (2024), written out here so the test does not trust the generator's own list.
ISO_4217 = frozenset(
    re.findall(
        r"[A-Z]{3}",
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF "
        "CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD "
        "HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD "
        "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN "
        "PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY "
        "TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL",
    )
)
SEEDS = range(25)


def values_for(name: str, schema: dict, context: list[str] | None = None) -> list:
    return [Values(seed).value(name, schema, context or []) for seed in SEEDS]


def test_person_names_and_emails():
    for full in values_for("passenger_name", {"type": "string"}):
        parts = full.split()
        assert len(parts) >= 2 and all(p[0].isupper() for p in parts), full
    for email in values_for("email", {"type": "string"}) + values_for("to", {"type": "string", "format": "email"}):
        _, address = parseaddr(email)
        assert address == email and re.fullmatch(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", email), email
    for first in values_for("first_name", {"type": "string"}):
        assert first.isalpha() and first[0].isupper() and first.lower() not in ("first", "name", "string")


def test_a_person_is_coherent_inside_one_object():
    schema = {"type": "object", "properties": {"first_name": {"type": "string"}, "last_name": {"type": "string"},
                                               "email": {"type": "string", "format": "email"}}}  # fmt: skip
    for seed in SEEDS:
        person = Values(seed).value("passenger", schema, ["book"])
        local = person["email"].split("@")[0]
        assert person["first_name"].lower() in local and person["last_name"].lower() in local, person


def test_cities_countries_and_dates():
    for city in values_for("city", {"type": "string"}):
        assert re.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)*", city), city
    for country in values_for("country", {"type": "string"}):
        assert country[0].isupper() and country.lower() != "country"
    for code in values_for("country_code", {"type": "string"}):
        assert re.fullmatch(r"[A-Z]{2}", code), code
    for name, schema in [("date", {"type": "string", "format": "date"}), ("check_in", {"type": "string"}),
                         ("since", {"type": "string"})]:  # fmt: skip
        for value in values_for(name, schema):
            day = dt.date.fromisoformat(value)  # ISO 8601
            assert 2025 <= day.year <= 2026, value
    for value in values_for("departure", {"type": "string", "format": "date-time"}):
        assert dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    for value in values_for("start_time", {"type": "string", "format": "time"}):
        assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value), value


def test_amounts_and_currency_codes():
    schema = {"type": "number", "exclusiveMinimum": 0, "description": "Amount to send"}
    for amount in values_for("amount", schema):
        assert isinstance(amount, float) and 0 < amount <= 2500 and round(amount, 2) == amount
    for code in values_for("currency", {"type": "string"}):
        assert code in ISO_4217, code
    for code in values_for("base_currency", {"type": "string", "pattern": "^[A-Z]{3}$"}):
        assert code in ISO_4217, code


def test_a_date_given_as_a_number_is_a_unix_time_and_a_count_is_whole():
    from inftool.agents.values import EPOCH_2025, EPOCH_2027

    for seed in range(20):
        v = Values(seed)
        ms = v.number("dateRangeFrom", {"description": "A millisecond epoch time.", "format": "int64"}, True)
        assert EPOCH_2025 * 1000 <= ms < EPOCH_2027 * 1000  # was 57 ("transactions from 57")
        assert EPOCH_2025 <= v.number("start", {"description": "Unix timestamp of the first event"}, True) < EPOCH_2027
        assert v.number("time", {"description": "Time in seconds"}, True) < 1000  # a span, not a point in time
        assert v.number("created_date", {"maximum": 31}, True) <= 31  # the schema's bounds win
        per_page = v.number("perPage", {"type": "number"}, False)
        assert per_page == int(per_page)  # "per page 1.52" reads wrong


def test_a_coordinate_passed_as_text_is_a_number():
    for name, (low, high) in {"latitude": (-90, 90), "lng": (-180, 180)}.items():
        for value in values_for(name, {"type": "string", "description": name}):  # a spec's wgs84ToOsgb36 takes text
            assert isinstance(value, str) and low <= float(value) <= high, value
    assert {type(v) for v in values_for("lat", {"type": "number"})} == {float}
    for name, bound in {"north": 90, "south": 90, "east": 180, "west": 180}.items():  # a bounding box's sides
        assert all(-bound <= v <= bound for v in values_for(name, {"type": "number"})), name


def test_ids_follow_the_format_the_spec_shows():
    for value in values_for("account_id", {"type": "string", "description": "Account id, e.g. ACC-1001"}):
        assert re.fullmatch(r"ACC-\d{4}", value) and value != "ACC-1001", value
    for value in values_for("order_id", {"type": "string", "pattern": r"^ORD-[0-9]{6}$"}):
        assert re.fullmatch(r"ORD-[0-9]{6}", value), value
    for value in values_for("sku", {"type": "string", "examples": ["SKU-88-A1"]}):
        assert re.fullmatch(r"SKU-\d\d-[A-Z]\d", value), value
    for value in values_for("origin", {"type": "string", "pattern": "^[A-Z]{3}$"}):
        assert re.fullmatch(r"[A-Z]{3}", value), value
    for value in values_for("booking_id", {"type": "string"}):
        assert re.fullmatch(r"[A-Z]{3}-\d{4,5}", value) and "booking" not in value.lower(), value
    assert all(re.fullmatch(r"GAM-\d{4,5}", v) for v in values_for("gameid", {"type": "string"}))  # no description
    numbers = {"type": "number"}
    assert all(isinstance(v, int) for v in values_for("userId", numbers) + values_for("id", numbers))
    assert any(isinstance(v, float) for v in values_for("bid", numbers))  # an amount, not an id
    quoted = {"type": "string", "description": "A reference like 'RF-20', shown on the invoice"}
    assert all(re.fullmatch(r"RF-\d\d", v) for v in values_for("reference", quoted))
    for prose in ("The `relay_token` granting access to the report you would like to refresh.",
                  "Filters such as the ones the dashboard shows."):  # fmt: skip
        schema = {"type": "string", "description": prose}  # a verb "like", a "such as the": no example in either
        assert not {"to", "the"} & set(values_for("relay_token", schema) + values_for("filter", schema))
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(uuid.fullmatch(v) for v in values_for("session", {"type": "string", "format": "uuid"}))


def test_ids_learned_from_a_sibling_argument():
    finance = TOOLSETS[1]
    for seed in SEEDS:
        values = Values(seed)
        values.learn([t.parameters for t in finance.tools])
        args = values.arguments("transfer_funds", required_only(finance.tool("transfer_funds").parameters))
        assert re.fullmatch(r"ACC-\d{4}", args["from_account"]) and re.fullmatch(r"ACC-\d{4}", args["to_account"])
        assert args["from_account"] != args["to_account"]


def test_enums_bounds_booleans_and_arrays():
    assert set(values_for("cabin", {"type": "string", "enum": ["economy", "business"]})) == {"economy", "business"}
    for n in values_for("nights", {"type": "integer", "minimum": 1, "maximum": 30}):
        assert isinstance(n, int) and 1 <= n <= 30
    for n in values_for("limit", {"type": "integer", "minimum": 1, "maximum": 100}):
        assert isinstance(n, int) and 1 <= n <= 100
    for x in values_for("ratio", {"type": "number", "minimum": 0.25, "maximum": 0.5, "multipleOf": 0.05}):
        assert 0.25 <= x <= 0.5 and abs(round(x / 0.05) * 0.05 - x) < 1e-9
    assert {type(b) for b in values_for("recursive", {"type": "boolean"})} == {bool}
    schema = {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4, "uniqueItems": True}
    for cities in values_for("cities", schema):
        assert 2 <= len(cities) <= 4 and len(set(cities)) == len(cities)
        assert all(re.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)*", c) for c in cities), cities


def test_free_strings_take_the_shape_their_name_says():
    """An owner is a user name, a repo a slug, a token a long hex string, a sort order asc/desc:
    never a bare dictionary word ("owner dog, repo change"), never the argument's own name."""
    for seed in range(20):
        v = Values(seed)
        owner, repo = v.value("owner", {"type": "string"}), v.value("repo", {"type": "string"})
        token, sort = v.value("access_token", {"type": "string"}), v.value("sort_direction", {"type": "string"})
        assert re.fullmatch(r"[a-z0-9._]{3,}", owner) and owner != "owner"
        assert re.fullmatch(r"[a-z]+-[a-z]+", repo)
        assert re.fullmatch(r"[0-9a-f]{16,24}", token)
        assert sort in ("asc", "desc")
        assert re.fullmatch(r"[A-Z]+-\d+", v.value("project", {"type": "string"}))  # an entity alone stays an id


def test_a_free_string_nothing_describes_is_never_a_function_word():
    """APIs.guru has many (`freeform`, `license`, `flavor`): a lorem word made "freeform statement", "license as"."""
    function_words = {"a", "an", "and", "as", "at", "be", "but", "by", "for", "if", "in", "it", "of", "on", "or",
                      "to", "up", "so", "than", "that", "this", "with", "between", "among", "like"}  # fmt: skip
    drawn = [Values(seed).value(name, {"type": "string"}) for seed in range(150)
             for name in ("freeform", "license", "flavor", "tag")]  # fmt: skip
    assert not function_words & set(drawn)
    assert all(re.fullmatch(r"[a-z]{4,}", v) for v in drawn) and len(set(drawn)) >= 15


def test_free_strings_take_what_their_description_says():
    """Real APIs.guru parameters whose names say nothing: the value comes from the values the
    description lists, the range it gives, its example, or what it says the string is (a bare
    Faker word read as "season around", "hour human", "type better" in the cpu_loop plans)."""
    string = lambda description: {"type": "string", "description": description}  # noqa: E731
    model = string("The terminal model. Possible values: E355, VX675WIFIBT, VX680, VX690, NONE.")
    assert set(values_for("model", model)) <= {"E355", "VX675WIFIBT", "VX680", "VX690"}  # not the placeholder NONE
    assert set(values_for("type", string("log type (DEFAULT, INFO, WARN, ERROR) to filter results by"))) <= {
        "DEFAULT", "INFO", "WARN", "ERROR"}  # fmt: skip
    assert set(values_for("orderType", string("Order result by ASC or DESC order."))) <= {"ASC", "DESC"}
    level = string("the level of interest (can be `Patient`, `Study`, `Series`)")
    assert set(values_for("Level", level)) <= {"Patient", "Study", "Series"}
    ages = values_for("ageGroup", string("age-group specification (1: 8-18, 2: 19-25, 3: 26-35)"))
    assert set(ages) <= {"1", "2", "3"}
    hours = values_for("hour", string("time interval for the count aggregation (from 0 to 23)"))
    assert all(0 <= int(h) <= 23 for h in hours) and len(set(hours)) > 3
    seasons = values_for("season", string("Year of the season.\n<br>Examples: <code>2017</code>, <code>2018</code>."))
    assert all(2015 <= int(year) <= 2026 for year in seasons)
    players = values_for("playerid", string("Unique FantasyData Player ID. Example:<code>20000571</code>."))
    assert all(re.fullmatch(r"[1-9]\d{7}", p) for p in players) and len(set(players)) > 20
    assert all(re.fullmatch(r"[a-z0-9._]{3,}", u) for u in values_for("userid", string("User name")))
    sids = values_for("DeviceSid", string("A 34-character string that uniquely identifies the Device."))
    assert all(re.fullmatch(r"[A-Z]{2}[0-9a-f]{32}", sid) for sid in sids)
    assert set(values_for("format", string("Translation Memory file format"))) <= {"json", "xml", "csv"}
    assert set(values_for("outputformat", string("Output image format. Must be one of png/html/jpg/svg"))) <= {
        "png", "html", "jpg", "svg"}  # fmt: skip
    starts = values_for("t0", string("The beginning of the timespan for the data."))
    assert all(dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in starts)
    offsets = values_for("offset", string("Records skipped. Defaults to 0"))
    assert all(o.isdigit() for o in offsets)
    images = values_for("imageData", {"type": "string", "format": "binary", "description": "Binary image data."})
    assert all(re.fullmatch(r"\w+\.(png|jpg)", i) for i in images)
    assert all(re.fullmatch(r"[A-Z]+-\d+", g) for g in values_for("project_gid", string("Globally unique identifier")))


def test_the_same_seed_gives_the_same_values():
    tool = TOOLSETS[0].tool("createBooking")
    first = [Values(s).arguments(tool.name, tool.parameters) for s in SEEDS]
    again = [Values(s).arguments(tool.name, tool.parameters) for s in SEEDS]
    assert first == again and len({str(a) for a in first}) > len(SEEDS) // 2


def test_every_example_tool_gets_valid_realistic_arguments():
    for toolset in TOOLSETS:
        for tool in toolset.tools:
            for schema in (tool.parameters, required_only(tool.parameters)):
                for seed in SEEDS:
                    values = Values(seed)
                    values.learn([t.parameters for t in toolset.tools])
                    args = values.arguments(tool.name, schema)
                    assert set(args) == set(schema.get("properties") or {})
                    assert validation_error(tool, args) is None or schema is not tool.parameters, (tool.name, args)
                    assert validation_error(tool.model_copy(update={"parameters": schema}), args) is None
                    assert placeholders(tool.name, args) == [], (tool.name, args)


@pytest.mark.parametrize(
    "pattern",
    [r"^[A-Z]{3}$", r"^ACC-\d{4}$", r"^(EU|US)-[0-9a-f]{6}$", r"^\+[1-9]\d{7,12}$", r"^[a-z][a-z0-9_]{2,15}$",
     r"^\d{5}(-\d{4})?$", r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"],
)  # fmt: skip
def test_strings_from_patterns(pattern: str):
    for seed in range(10):
        value = from_pattern(pattern, random.Random(seed))
        assert value is not None and re.search(pattern, value), value
    tool = ToolSpec(
        name="t", parameters={"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}}}
    )
    assert all(validation_error(tool, Values(s).arguments("t", tool.parameters)) is None for s in SEEDS)


def test_like_keeps_the_shape_of_an_example():
    rng = random.Random(0)
    assert re.fullmatch(r"ACC-\d{4}", like("ACC-1001", rng))
    assert re.fullmatch(r"ord_[0-9a-f]{4}", like("ord_9f3a", rng))


def test_a_masked_example_is_filled_not_said_as_it_is():
    for seed in SEEDS:
        value = like("14ab36ed-xxxx-xxxx-xxxx-d418904c95ec", random.Random(seed))
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value), value
        assert re.fullmatch(r"INV-\d{4}", like("INV-####", random.Random(seed)))


def test_an_address_is_the_kind_its_tool_asks_for():
    wallet = {"type": "string", "description": "Your Neblio Testnet Address"}
    for value in values_for("address", wallet):
        assert re.fullmatch(r"[13][1-9A-HJ-NP-Za-km-z]{33}", value), value  # base58, as a wallet's
    for value in values_for("address", {"type": "string", "description": "Ethereum wallet"}):
        assert re.fullmatch(r"0x[0-9a-f]{40}", value), value
    for value in values_for("address", {"type": "string", "description": "The IP address to search against"}):
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value), value
    for value in values_for("address", {"type": "string", "description": "The customer's address"}):
        assert re.search(r"\d+ [A-Z]", value), value  # a street: "8167 Davis Pass"


def test_plans_fill_some_optional_scalar_arguments():
    """A plan fills the required arguments and, sometimes, up to two optional scalar ones (people
    say "for 3 days" when it matters); never an optional object, never a property the tool lacks."""
    from inftool.agents.user_simulator import MAX_OPTIONAL, with_optional

    props = {"city": {"type": "string"}, "days": {"type": "integer"}, "units": {"enum": ["c", "f"]},
             "detailed": {"type": "boolean"}, "filters": {"type": "object", "properties": {}}}  # fmt: skip
    full = {"type": "object", "required": ["city"], "properties": props}
    picked = [set(with_optional(required_only(full), full, f"s{seed}")["properties"]) - {"city"} for seed in range(200)]
    assert all(len(p) <= MAX_OPTIONAL and "filters" not in p for p in picked)
    assert 0.2 < sum(bool(p) for p in picked) / len(picked) < 0.9  # some plans, not all
    assert {"days", "units", "detailed"} <= set().union(*picked)
    assert with_optional(required_only(full), full, "s1") == with_optional(required_only(full), full, "s1")  # seeded
    no_required = {"type": "object", "properties": {"q": {"type": "string"}}}
    assert with_optional(required_only(no_required), no_required, "s1") == required_only(no_required)
