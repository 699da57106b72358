"""Tool-pool curation: near-duplicates merged (never distinct operations), every tool tagged with
a named domain, one toolset per domain; the MiniLM embedder from its PyPI package; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inftool.config import ToolFilterConfig
from inftool.errors import UserError
from inftool.specs import Toolset, ToolSpec
from inftool.specs.curate import curate, filter_pool, near_duplicate_groups, tool_text


def tool(name: str, description: str, *params: str) -> ToolSpec:
    return ToolSpec(name=name, description=description,
                    parameters={"type": "object", "properties": {p: {"type": "string"} for p in params}})  # fmt: skip


WEATHER = [
    tool("get_forecast", "Get the weather forecast for a city.", "city", "days"),
    tool("list_weather_stations", "List the weather stations near a location.", "lat", "lon"),
    tool("get_air_quality", "Get the air quality index of a city.", "city"),
]
PAYMENTS = [
    tool("create_invoice", "Create a payment invoice for a customer.", "customer_id", "amount"),
    tool("refund_payment", "Refund a card payment.", "payment_id", "amount"),
    tool("list_payouts", "List the payment payouts sent to a customer bank account.", "customer_id", "page"),
]
COPIES = [  # the same operations from other providers
    tool("acme_fetchForecast", "Acme: fetch the weather forecast for a city.", "city", "days"),
    tool("createInvoice", "Create a payment invoice for a customer (via the Globex API).", "customerId", "amount"),
]


def test_near_duplicates_merge_and_domains_are_named():
    pool = [Toolset(name="a", source="a", source_format="openai", tools=[*WEATHER, *PAYMENTS]),
            Toolset(name="b", source="b", source_format="openai", tools=COPIES)]  # fmt: skip
    curated, report = curate(pool, domains=2, merge_threshold=0.8)
    assert report.tools_before == 8 and report.tools_after == 6
    merged = {tuple(sorted([keep, *others])) for keep, others in report.merged.items()}
    assert merged == {("a/get_forecast", "b/acme_fetchForecast"), ("a/create_invoice", "b/createInvoice")}
    assert len(curated) == 2 and sum(len(ts.tools) for ts in curated) == 6
    for ts in curated:
        assert all(t.domain == ts.name for t in ts.tools)
    weather = next(ts for ts in curated if any(t.name == "get_air_quality" for t in ts.tools))
    names = {t.name for t in weather.tools}  # a domain is one service area; the forecast kept once
    assert names - {"get_forecast", "acme_fetchForecast"} == {"list_weather_stations", "get_air_quality"}
    assert "weather" in weather.name or "city" in weather.name
    assert report.domains == {ts.name: len(ts.tools) for ts in curated} and "domains" in report.table()


def test_filter_keeps_askable_tools_and_caps_each_api():
    fields = {f"field{i}": {"type": "string", "description": "x" * 80} for i in range(4)}
    huge = ToolSpec(name="bulkUpdate", description="Update many things.", source="graph.json#/paths/~1bulk",
                    parameters={"type": "object", "properties": fields})  # fmt: skip
    odata = tool("updateAddress", "Update an address.", "@odata.type")
    silent, route = tool("ping", "", "host"), tool("notify", "POST /account_roles/{id}/notify/", "id")
    many = [tool(f"op{i}", "An operation." + " Documented." * i, "x").model_copy(update={"source": f"api.json#/{i}"})
            for i in range(5)]  # fmt: skip
    weather = [t.model_copy(update={"source": "weather.json#/"}) for t in WEATHER[:2]]
    raw = [huge, odata, silent, route, *many, *weather]
    pool = [Toolset(name="raw", source="raw", source_format="openapi", tools=raw)]
    rules = ToolFilterConfig(max_schema_chars=300, identifier_names=True, require_description=True, max_tools_per_api=2,
                             min_parameters=1)  # fmt: skip
    kept, dropped = filter_pool(pool, rules)
    names = [t.name for t in kept[0].tools]
    assert names == ["op3", "op4", *(t.name for t in weather)]  # the two best-documented of api.json, in pool order
    assert dropped == {"schema too long": 1, "parameter names that are not identifiers": 1, "no description": 2,
                       "over the per-API limit": 3}  # fmt: skip
    assert filter_pool(pool, ToolFilterConfig())[0][0].tools == pool[0].tools  # every limit off by default


def test_filter_leaves_out_tools_named_like_a_bfcl_function():
    """APIs.guru holds `users_setPhoto`, a BFCL function's name: the training step's contamination
    check would refuse every row offering it, so the pool drops it (and only it) up front."""
    from inftool.eval_data import bfcl_reference
    from inftool.train.data import check_contamination

    bfcl_name = sorted(n for n in bfcl_reference()[1] if n.isidentifier())[0]
    exam = tool(bfcl_name, "Something BFCL asks about.", "x")
    pool = [Toolset(name="raw", source="raw", source_format="openapi", tools=[exam, *WEATHER[:2]])]
    kept, dropped = filter_pool(pool, ToolFilterConfig(exclude_bfcl_functions=True))
    assert [t.name for t in kept[0].tools] == [t.name for t in WEATHER[:2]] and dropped == {"a BFCL function's name": 1}
    row = {"id": "r", "prompt": [], "label": json.dumps({"tools": [exam.openai_tool()], "calls": []})}
    with pytest.raises(UserError, match="a BFCL function"):  # what the filter spares the run
        check_contamination([row])


def test_leader_grouping_does_not_chain():
    # a~b and b~c are above the threshold, a~c is not: only one pair may merge
    vectors = np.array([[1.0, 0.0], [0.94, 0.34], [0.77, 0.64]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = near_duplicate_groups(vectors, np.zeros(3, dtype=int), threshold=0.93)
    assert groups == [[0, 1]]


def test_tool_text_sees_synonyms_and_parameters():
    text = tool_text(tool("removeUserAccount", "Remove an account.", "accountId"))
    assert text.startswith("delete user account.") and "account id" in text


def test_minilm_embedder_runs_offline_from_its_package():
    from inftool.specs.minilm import embed

    vectors = embed(["get the weather forecast for a city", "fetch a city's weather forecast",
                     "refund a card payment"])  # fmt: skip
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_ingest_with_curation_tags_domains(inftool_cli, tmp_path: Path):
    result = inftool_cli("mode=ingest", "curation.enabled=true", "curation.domains=3", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    assert "curation (tfidf)" in result.stdout
    toolsets = [json.loads(line) for line in (tmp_path / "run" / "toolsets.jsonl").read_text().splitlines()]
    assert len(toolsets) == 3 and all(t["domain"] == ts["name"] for ts in toolsets for t in ts["tools"])
    report = json.loads((tmp_path / "run" / "curation.json").read_text())
    assert report["tools_after"] == sum(len(ts["tools"]) for ts in toolsets) <= report["tools_before"]
