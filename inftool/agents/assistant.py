"""`Assistant`: the policy being trained. It sees the chat so far and the tool schemas and
answers with tool calls (several at once for parallel work) or text.

Its prompt is the real chat (system + messages + `tools`), exactly what training data records,
so it calls its LM natively rather than through a DSPy adapter; the system prompt is the
`AssistantTurn` Signature's instructions, which stay optimizable.
"""

from __future__ import annotations

from typing import Any

import dspy

from inftool.agents.signatures import AssistantTurn
from inftool.lm import ChatRequest, ChatResult, RoleLM


class Assistant(dspy.Module):
    def __init__(self, temperature: float | None = None) -> None:
        super().__init__()
        self.turn = dspy.Predict(AssistantTurn)
        self.temperature = temperature

    @property
    def system_prompt(self) -> str:
        return self.turn.signature.instructions

    async def aforward(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        seed: int | None = None,
        answer_max_chars: int | None = None,
    ) -> ChatResult:
        """The policy's next message; `answer_max_chars` bounds a text answer where only calls count."""
        lm = self.turn.lm
        if not isinstance(lm, RoleLM):
            raise TypeError("the Assistant needs an inftool RoleLM (set_lm) to call tools natively")
        request = ChatRequest(messages=messages, tools=tools or None, temperature=self.temperature, seed=seed,
                              answer_max_chars=answer_max_chars)  # fmt: skip
        return await lm.client.acomplete(request)
