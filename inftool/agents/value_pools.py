"""What values are drawn from: fixed pools of real cities, airport and currency codes, languages,
search queries, file names, titles and sentences; the word sets that tell what an argument's name
means (a person, free text, an id, a past event, a from/to pair); and the shared per-thread Faker
that `Values` draws everything else from.

Dates are drawn around `ANCHOR` (never today), so a seed means the same data on any day.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any

from faker import Faker

ANCHOR = dt.date(2026, 3, 2)  # dates are drawn around this day, never around today

CITIES = (
    "Lisbon", "Porto", "Madrid", "Barcelona", "Paris", "Lyon", "Berlin", "Munich", "Hamburg", "Vienna", "Zurich",
    "Amsterdam", "Brussels", "Copenhagen", "Stockholm", "Oslo", "Helsinki", "Dublin", "London", "Manchester",
    "Edinburgh", "Rome", "Milan", "Naples", "Athens", "Prague", "Warsaw", "Budapest", "Istanbul", "Cairo",
    "Nairobi", "Cape Town", "Lagos", "Dubai", "Mumbai", "Delhi", "Bangalore", "Singapore", "Bangkok", "Hanoi",
    "Tokyo", "Osaka", "Seoul", "Beijing", "Shanghai", "Hong Kong", "Sydney", "Melbourne", "Auckland", "Toronto",
    "Vancouver", "Montreal", "New York", "Boston", "Chicago", "Denver", "Austin", "Seattle", "San Francisco",
    "Los Angeles", "Miami", "Mexico City", "Bogota", "Lima", "Santiago", "Buenos Aires", "Sao Paulo",
)  # fmt: skip
AIRPORTS = (
    "SFO", "JFK", "LAX", "ORD", "BOS", "SEA", "DEN", "ATL", "MIA", "LHR", "CDG", "FRA", "AMS", "MAD", "BCN",
    "LIS", "FCO", "MUC", "ZRH", "VIE", "CPH", "DUB", "IST", "DXB", "DOH", "SIN", "HKG", "NRT", "HND", "ICN",
    "SYD", "YYZ", "YVR", "MEX", "GRU", "BOG",
)  # fmt: skip
CURRENCIES = (
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "CNY", "HKD", "SGD", "SEK", "NOK", "DKK", "PLN",
    "CZK", "INR", "BRL", "MXN", "ZAR", "KRW", "TRY", "AED",
)  # fmt: skip
LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
             "pt": "Portuguese", "ja": "Japanese", "zh": "Chinese", "nl": "Dutch", "sv": "Swedish", "ko": "Korean",
             "pl": "Polish"}  # fmt: skip
QUERIES = (
    "vegan restaurants", "wireless headphones", "running shoes", "project kickoff", "quarterly report",
    "invoice 2025", "team offsite", "python tutorials", "coffee shops", "museum tickets", "electric cars",
    "home insurance", "budget spreadsheet", "yoga classes", "italian recipes", "laptop stand",
)  # fmt: skip
FOLDERS = ("docs", "notes", "reports", "src", "data", "drafts", "projects", "invoices", "archive")
STEMS = ("meeting_notes", "budget", "todo", "summary", "report_q3", "draft", "agenda", "plan", "invoice_0412",
         "readme", "changelog", "roadmap", "expenses", "ideas")  # fmt: skip
TITLES = (
    "Quarterly budget review", "Team offsite planning", "Project kickoff", "Invoice for March", "Weekly status update",
    "Lunch on Friday", "Contract renewal", "Travel plans", "Interview schedule", "Design review notes",
)  # fmt: skip
SENTENCES = (
    "Can we move our meeting to Thursday afternoon?", "Please find the updated figures attached.",
    "Thanks for your help with the launch last week.", "Reminder: the report is due on Friday.",
    "Let's review the budget before the board meeting.", "The team dinner is booked for seven o'clock.",
    "Please confirm the delivery address for the order.", "Here are the notes from today's call.",
)  # fmt: skip
MEMOS = ("Rent for March", "Dinner last night", "Concert tickets", "Birthday gift", "Shared groceries", "Invoice 2231")
NAMES = ("Aurora", "Summit", "Harbor", "Atlas", "Beacon", "Cedar", "Nova", "Orion", "Maple", "Sierra", "Falcon")
# a free string nothing else describes (a tag, a namespace, a kind): a word a person would type there. Faker's
# lorem words were that draw, and a fifth of them are function words ("namespace for", "relay token to").
WORDS = ("staging", "production", "sandbox", "default", "primary", "archive", "marketing", "billing", "analytics",
         "support", "research", "premium", "standard", "internal", "public", "seasonal", "summer", "launch", "pilot",
         "legacy", "mobile", "retail", "weekly", "finance", "design", "travel", "events", "onboarding", "partners",
         "backup", "reporting", "inventory", "campaign", "security", "holiday", "training")  # fmt: skip
SLUG_TAILS = ("service", "api", "app", "web", "tools", "sdk", "pipeline", "docs", "cli", "backend")
TICKERS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "TSLA", "META", "IBM", "ORCL", "SAP", "ASML", "NFLX")
PROVIDERS = ("github", "google", "microsoft", "slack", "stripe", "aws", "dropbox", "okta", "gitlab", "zoom")
WEATHER = ("sunny", "partly cloudy", "overcast", "light rain", "clear", "windy", "showers", "foggy")
PERSON_ENTITIES = {"user", "customer", "contact", "passenger", "employee", "person", "member", "author", "guest",
                   "patient", "student", "recipient", "sender", "owner", "traveler", "traveller", "client"}  # fmt: skip
TEXT_WORDS = {"content", "body", "text", "message", "note", "notes", "memo", "comment", "comments", "description",
              "summary", "details", "bio", "review", "reply", "caption", "instructions"}  # fmt: skip
ID_WORDS = {"id", "ids", "uuid", "code", "number", "num", "no", "ref", "reference", "key", "sku"}
ID_ENTITIES = {
    "account",
    "order",
    "invoice",
    "booking",
    "reservation",
    "ticket",
    "customer",
    "user",
    "project",
    "transaction",
    "payment",
    "shipment",
    "item",
    "product",
    "flight",
}  # an `account` alone is an id
ROLE_WORDS = {"from", "to", "source", "target", "src", "dst", "destination", "new", "old", "parent", "primary"}
PAST_CONTEXT = {
    "transaction",
    "transactions",
    "history",
    "payment",
    "payments",
    "log",
    "logs",
    "statement",
    "activity",
    "created",
    "updated",
    "orders",
    "invoices",
    "messages",
    "emails",
}  # what already happened
PAIRS = (("from", "to"), ("origin", "destination"), ("source", "target"), ("src", "dst"), ("start", "end"))


_FAKERS = threading.local()


def _faker(locale: str) -> Faker:
    """One Faker per locale and thread: building one loads every provider (~1 ms, more than all the
    values an episode draws), so `Values` objects share it, each with its own seeded random."""
    fakers: dict[str, Faker] = _FAKERS.__dict__.setdefault("by_locale", {})
    if locale not in fakers:
        fakers[locale] = Faker(locale)
    return fakers[locale]


class _Fake:
    """`Faker(locale)` after `seed_instance(seed)`, drawing the same values, on a shared Faker."""

    def __init__(self, locale: str, seed: str) -> None:
        self.locale = locale
        self.random = random.Random(seed)  # what seed_instance gives the Faker

    def __getattr__(self, name: str) -> Any:
        faker = _faker(self.locale)
        method = getattr(faker, name)

        def draw(*args: Any, **kwargs: Any) -> Any:
            faker.random = self.random  # a draw never awaits: no other `Values` draws in between
            return method(*args, **kwargs)

        return draw
