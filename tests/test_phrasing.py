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
    ("Update an {objectName} by objectId.", "update an object name by objectId"),
    ("Resets the Error Count parameter", "reset the Error Count parameter"),
    ("Withdraws testnet NEBL to the specified address", "withdraw testnet NEBL to the specified address"),
    ("Allows a developer or administrator to change the status of apps", "change the status of apps"),
    ("To get all the question categories", "get all the question categories"),
    ("Displays the dates of a facility report", "show the dates of a facility report"),
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


def test_a_plural_noun_that_is_also_a_verb_stays_a_noun():
    assert action("Requests for a basket", "get_requests") == ("the requests for a basket", False)
    assert action("Links of the page", "page_links") == ("the links of the page", False)
