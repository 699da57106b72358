"""SFT's loss weighted toward the tokens that decide: call or answer, and one more call or stop.

An SFT answer is ~60 tokens, nearly all of them copied from the request or the schema; the
decisions BFCL scores first are two or three of them: whether the answer opens with `tool_calls`
or `answer`, and after each call whether a `,` (one more) or the `]` (done) follows. After one
pass over a CPU loop's plans, the wrong number of calls was the first failure in every call
category (124 of 263 simple_python failures, 80 of 137 multiple; issue 13's note). `decision_weight`
multiplies the call-or-answer token's share of the loss and `count_weight` the more-or-stop tokens';
every other token keeps weight 1. They are apart because they pull apart: on a small policy a heavy
count weight learns the count's prior (after a first call, stop: single and multiple items outnumber
the rest) before the request's cue, and it called once where a parallel request asked for three.
"""

from __future__ import annotations

from typing import Any

IGNORED = -100  # the label of a prompt token


CALL, COUNT = "call", "count"  # the two kinds of decision: call or answer; one more call or stop


def decision_chars(text: str) -> list[tuple[int, str]]:
    """Where in an answer's JSON (as `sft_completion` writes it) a decision is made, and which:
    the first letter of its first key (`tool_calls` / `answer`: CALL) and the character after each
    call of the top-level call list (`,` or `]`: COUNT). Strings are skipped, so values holding
    brackets do not count."""
    start = text.find("{")
    if start < 0:
        return []
    marks: list[tuple[int, str]] = []
    stack: list[str] = []
    in_string = escaped = False
    after_call = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
            continue
        if after_call and not char.isspace():
            marks.append((index, COUNT))
            after_call = False
        if char == '"':
            if stack == ["{"] and not marks:
                marks.append((index + 1, CALL))  # the key's first letter: "tool_calls" or "answer"
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]":
            if not stack:
                break
            stack.pop()
            after_call = char == "}" and stack == ["{", "["]  # a call of the top-level list just closed
            if not stack:
                break
    return marks


def decision_weights(labels: list[int], tokenizer: Any, weight: float, count_weight: float = 1.0) -> list[float]:
    """A weight per label position: `weight` on the token holding the answer's call-or-answer
    character, `count_weight` on those holding a more-or-stop one (of the positions not `IGNORED`),
    1 elsewhere."""
    weights = [1.0] * len(labels)
    positions = [i for i, token in enumerate(labels) if token != IGNORED]
    if weight == count_weight == 1.0 or not positions:
        return weights
    pieces = [tokenizer.decode([labels[i]]) for i in positions]
    ends, total = [], 0
    for piece in pieces:
        total += len(piece)
        ends.append(total)
    text = "".join(pieces)
    token = 0
    for char, kind in decision_chars(text):
        while token < len(ends) and ends[token] <= char:
            token += 1
        if token < len(ends):
            weights[positions[token]] = weight if kind == CALL else count_weight
    return weights


def weighted_sft_trainer(trainer_class: type, weight: float, count_weight: float = 1.0) -> type:
    """`trainer_class` (TRL's SFTTrainer) whose token loss counts the call-or-answer token `weight`
    times and each more-or-stop token `count_weight` times. The loss is TRL's own (its fused LM
    head's log-probs over `num_items_in_batch`), weighted."""

    class DecisionWeightedSFTTrainer(trainer_class):  # type: ignore[misc,valid-type]
        def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:  # fmt: skip
            import torch

            if weight == count_weight == 1.0 or return_outputs or not model.training:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            inputs["use_cache"] = False
            outputs = model(**inputs, fused_lm_head=True)
            next_labels = inputs["labels"][:, 1:].tolist()  # log_probs[:, t] scores labels[:, t + 1]
            rows = [decision_weights(row, self.processing_class, weight, count_weight) for row in next_labels]
            weights = torch.tensor(rows, dtype=outputs.log_probs.dtype, device=outputs.log_probs.device)
            count = outputs.label_mask.sum() if num_items_in_batch is None else num_items_in_batch
            loss = -(outputs.log_probs * weights).sum() / torch.as_tensor(count).clamp(min=1)
            mask = inputs.get("attention_mask")
            self._total_train_tokens += int(mask.sum().item()) if mask is not None else inputs["input_ids"].numel()
            self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
            return loss

    return DecisionWeightedSFTTrainer
