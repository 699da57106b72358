"""One Signature per agent step. Their instructions are the prompts DSPy optimizers tune."""

from __future__ import annotations

from typing import Any

import dspy


class DrawArguments(dspy.Signature):
    """You play a user of a software service. Choose concrete, realistic argument values for one
    call of the function below, as this user would need them. Every value must fit the schema
    (types, enums, formats). Choose values different from the ones listed under `avoid`."""

    persona: str = dspy.InputField()
    function: str = dspy.InputField(desc="name, description and JSON Schema of the arguments")
    avoid: str = dspy.InputField(desc="argument sets already chosen")
    arguments: dict[str, Any] = dspy.OutputField(desc="the argument values")


class WriteRequest(dspy.Signature):
    """You play a user talking to an AI assistant that can use software tools. Write the user's
    goal and the message the user sends: the draft request said in your own words, brief and
    natural. Keep every value of `actions` exactly as written (names, ids, numbers, dates), ask
    for nothing else, and never name functions or mention JSON."""

    persona: str = dspy.InputField()
    actions: str = dspy.InputField(desc="what the user needs done, with the values to mention")
    draft: str = dspy.InputField(desc="a plain version of the message")
    goal: str = dspy.OutputField(desc="the user's goal in one sentence")
    message: str = dspy.OutputField(desc="the user's message to the assistant")


class ReplyToAssistant(dspy.Signature):
    """You play the user. Reply to the assistant's last message in character, in one or two
    sentences. Give information only from `information`; if the assistant asked for it, give it."""

    persona: str = dspy.InputField()
    assistant_message: str = dspy.InputField()
    information: str = dspy.InputField(desc="facts the user knows and may reveal")
    reply: str = dspy.OutputField()


class SimulateResult(dspy.Signature):
    """You are a real API server. Write the JSON result of this function call as the service
    would, or only the fields named under `write` (free text, such as a file's content or a
    hotel's description): realistic, brief, consistent with the arguments, the rest of the result
    and earlier results in this session. Write data, never a schema or a field's name."""

    function: str = dspy.InputField(desc="name, description, and the result schema or the result so far")
    arguments: str = dspy.InputField(desc="the call's arguments as JSON")
    history: str = dspy.InputField(desc="earlier calls and results in this session")
    result: dict[str, Any] = dspy.OutputField()


class AssistantTurn(dspy.Signature):
    """You are a helpful assistant that can call functions. Call the functions the user's request
    needs, with argument values taken from the conversation; call several at once when the
    request needs several. When a function result gives a value a later call needs, use it. If
    no function fits the request, say so in text; if a required value is missing, ask for it.
    After the results arrive, answer the user briefly in text."""

    conversation: list[dict[str, Any]] = dspy.InputField(desc="OpenAI chat messages so far")
    tools: list[dict[str, Any]] = dspy.InputField(desc="OpenAI tool schemas")
    reply: dict[str, Any] = dspy.OutputField(desc="tool calls or a text answer")
