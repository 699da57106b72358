"""The drafted request: a tool's action read from its description as a person would say it."""

from __future__ import annotations

import pytest

from inftool.agents.phrasing import action

# Descriptions as APIs.guru writes them (labels, HTML, "This operation …"), and what a person asks.
CASES = [
    ("Description: This operation retrieves a single Defined Benefit Pension for the specified Defined Benefit "
     "Pension ID.<br /> Use it to review a pension.", "get a single Defined Benefit Pension for the specified "
     "Defined Benefit Pension ID"),
    ("<p>Lists all <b>invoices</b> of a customer.</p>", "list all invoices of a customer"),
    ("This endpoint returns the list of users in an organization.", "get the list of users in an organization"),
    ("Summary: Creates a new order", "create a new order"),
    ("Get the current balance of a bank account.", "get the current balance of a bank account"),
    ("Return a redirect to a badge file.", "get a redirect to a badge file"),
    ("Analyse message length", "analyse message length"),
    ("Update an {objectName} by objectId.", "update an object name by object id"),
    ("Resets the Error Count parameter", "reset the Error Count parameter"),
    ("Withdraws testnet NEBL to the specified address", "withdraw testnet NEBL to the specified address"),
    ("Allows a developer or administrator to change the status of apps", "change the status of apps"),
    ("To get all the question categories", "get all the question categories"),
    ("Displays the dates of a facility report", "show the dates of a facility report"),
    # a title before the action, as many APIs.guru summaries are
    ("Team records. Get team records by year", "get team records by year"),
    ("Skills Associated with a Job. Retrieves a collection of skills", "get a collection of skills"),
    ("Clear a bucket (remove all messages).", "clear a bucket"),
    ("Use this method to get basic info about a file", "get basic info about a file"),
    ("Update/create an attribute group", "update an attribute group"),
    ("Performs object detection on the image", "perform object detection on the image"),
    ("Retrieve `gene-expression` objects", "retrieve gene-expression objects"),
    ("Load the lab configuration", "load the lab configuration"),  # not "Please get me the load the lab …"
    ("List of payslips for an employment", "list payslips for an employment"),  # not "Please list of payslips"
    ("Available for UWP apps only. Count of crashes by day", "count crashes by day"),
    ("Removes multiple\nmembers from a list", "remove multiple members from a list"),  # a wrapped line, not two
    ("Retrieve a page of users permissions [action name] for a scheme", "retrieve a page of users permissions for a "
     "scheme"),
    ("Browse the Near Earth Objects service. Retieve a list", "browse the Near Earth Objects service"),
    ("[USES 10 UNITS PER NAME] Infer the likely country of a name", "infer the likely country of a name"),
]  # fmt: skip


@pytest.mark.parametrize(("description", "said"), CASES)
def test_the_action_is_the_description_without_its_label_markup_or_subject(description: str, said: str):
    text, imperative = action(description, "some_tool")
    assert (text, imperative) == (said, True)
    assert "<" not in text and "description" not in text.lower()


def test_a_description_that_is_a_path_says_the_tool_name_without_its_numbering():
    assert action("/v0.1/ConferenceKick/", "post_v0_1_ConferenceKick") == ("post conference kick", True)
    assert action("GET /users/{id}", "get_users_id_2") == ("get users id", True)
    assert action("", "searchItems_15")[0] == "search items"
    assert action("Can be used as an extra layer for validating emails.", "validate_email") == ("validate email", True)


def test_a_title_without_an_action_stays_a_noun_phrase_with_its_acronyms():
    assert action("Player Season Away Stats", "PlayerSeasonAwayStats") == ("the player Season Away Stats", False)
    assert action("ECHO NPDES Parameters Lookup Service. Some Notes.", "x") == ("the ECHO NPDES Parameters Lookup "
                                                                              "Service", False)  # fmt: skip
    assert action("All branches defined for a company", "x") == ("all branches defined for a company", False)
    # a later sentence that is not an action does not replace the title
    assert action("Memberships by Team. Memberships by Team", "x") == ("the memberships by Team", False)


def test_a_plural_noun_that_is_also_a_verb_stays_a_noun():
    assert action("Requests for a basket", "get_requests") == ("the requests for a basket", False)
    assert action("Links of the page", "page_links") == ("the links of the page", False)


def test_requests_do_not_all_echo_the_description():
    """Drafted from the description alone, every request repeated it (96 % of its content words); a person
    words it their own way. Over many seeds the action is said several ways, the description's way among them."""
    from inftool.agents.phrasing import request

    description = "Calculate the current balance of the specified bank account by ID."
    call = ("get_balance", description, {"account_id": "ACC-1042"}, {}, {"account_id": {"type": "string"}})
    said = [request([call], seed) for seed in range(60)]
    assert all("ACC-1042" in text for text in said)  # the value is always there
    verbs = {
        v for text in said for v in ("calculate", "work out", "compute", "figure out", "find") if v in text.lower()
    }
    assert "calculate" in verbs and len(verbs) >= 3, verbs
    assert any("specified" in text for text in said) and any("specified" not in text for text in said)
    assert any(text.rstrip(".?").endswith("by ID") for text in said)
    assert any("by ID" not in text for text in said)


def test_qualifiers_that_carry_no_value_are_sometimes_left_out_and_those_that_do_never():
    from inftool.agents.phrasing import request

    description = "Count differences for a species with reference sequence, by object type"
    call = ("count_diffs", description, {"species": "SPC-79"}, {}, {"species": {"type": "string"}})
    said = [request([call], seed) for seed in range(60)]
    assert all("for SPC-79" in text for text in said)  # the qualifier naming the value stays
    short = [text for text in said if "reference sequence" not in text]
    assert short and len(short) < len(said)
    description = "Count differences of objects with reference sequence, by object type"
    call = ("count_diffs", description, {"limit": 5}, {}, {"limit": {"type": "integer"}})
    trimmed = [text for text in (request([call], seed) for seed in range(60)) if "object type" not in text]
    assert trimmed and all("differences of objects" in text for text in trimmed)  # a bare head keeps its object
    description = "Retrieve a page of users permissions for a permission scheme"  # "get a page" says no what
    said = [request([("list_perms", description, {"name": "Orion"}, {}, {"name": {"type": "string"}})], seed)
            for seed in range(60)]  # fmt: skip
    assert all("users permissions" in text for text in said)


def test_tell_me_comes_before_a_determiner_only():
    import random

    from inftool.agents.rewording import reword

    bare = {reword("get collected requests", True, [], random.Random(seed))[0] for seed in range(200)}
    assert any(text.startswith("show me") for text in bare) and not any(t.startswith("tell me") for t in bare)
    told = {reword("get the collected requests", True, [], random.Random(seed))[0] for seed in range(200)}
    assert any(text.startswith("tell me the") for text in told)


def test_repeated_calls_quote_each_text_on_its_own():
    """Two searches said once read as two: 'for "laptop stand" and "coffee shops"', never one
    quoted 'for "laptop stand and coffee shops"' (a single query to a reader)."""
    from inftool.agents.phrasing import request

    calls = [("get_search_query", "Search through all resources", {"query": q, "pageSize": 31}, {}, {})
             for q in ("laptop stand", "coffee shops")]  # fmt: skip
    said = request(calls, 0)
    assert '"laptop stand" and "coffee shops"' in said and "laptop stand and coffee" not in said, said
    single = request(calls[:1], 0)
    assert '"laptop stand"' in single, single


def test_a_filler_word_left_out_leaves_the_right_article():
    import random

    from inftool.agents.rewording import reword

    said = {reword("get a single event", True, [], random.Random(seed))[0] for seed in range(100)}
    assert any("an event" in text for text in said) and not any("a event" in text for text in said), said
    said = {reword("delete an existing user", True, [], random.Random(seed))[0] for seed in range(100)}
    assert any("a user" in text for text in said) and not any("an user" in text for text in said), said


def test_a_noun_the_action_ends_with_is_said_once_before_its_value():
    import random

    from inftool.agents.phrasing import clause

    said = {clause("describeService", "Describe service", {"service": "SRV-61804"}, {}, {}, random.Random(s))[0]
            for s in range(50)}  # fmt: skip
    assert not any("service service" in text.lower() for text in said), said
    assert all("SRV-61804" in text for text in said), said


def test_an_operation_name_in_a_description_is_said_as_words():
    # gamesparks' summary is the operation's own name: the request said "Could you copySnapshotToExistingGame to …"
    assert action("copySnapshotToExistingGame", "copySnapshotToExistingGameUsingPOST") == (
        "copy snapshot to existing game", True)  # fmt: skip
    said, _ = action("Remove a list of faces, identified by faceHashes, from a profile.", "removeFaces")
    assert said == "remove a list of faces, identified by face hashes, from a profile"
    assert action("Register an iPhone with eBay.", "registerDevice")[0] == "register an iPhone with eBay"  # brands stay
    assert action("Update an {objectName}.", "updateObject")[0] == "update an object name"  # a path's slot, as before
    assert action("getBoardsLabelsByIdBoardByIdLabel", "getBoardsLabelsByIdBoardByIdLabel")[0] == (
        "getBoardsLabelsByIdBoardByIdLabel"
    )  # a path's name: no words a person says; the plan gate refuses it
