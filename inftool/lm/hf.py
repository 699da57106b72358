"""The `hf` backend: a local transformers checkpoint folder, generating on CPU with torch.

The loop uses it for the freshly trained policy (the local trainer writes these folders).
Tools are rendered into the system prompt and calls parsed from the text.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from inftool.config import HFLMConfig
from inftool.errors import UserError
from inftool.lm.constrained import plain_messages
from inftool.lm.records import ChatRequest, ChatResult
from inftool.lm.toolcalls import parse_tool_calls


class HFEngine:
    def __init__(self, cfg: HFLMConfig) -> None:
        path = Path(cfg.path).expanduser()
        if not (path / "config.json").is_file():
            raise UserError(f"hf checkpoint not found: {path} has no config.json")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise UserError("the hf backend needs torch and transformers: pip install 'inftool[train]'") from None
        self.cfg, self.torch = cfg, torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        self.name = f"hf:{path.name}"
        self.path = path
        self.lock = threading.Lock()
        self._calls = 0

    def where(self) -> str:
        return str(self.path)

    def complete(self, request: ChatRequest) -> ChatResult:
        prompt = self.tokenizer.apply_chat_template(
            plain_messages(request), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        temperature = self.cfg.temperature if request.temperature is None else request.temperature
        with self.lock, self.torch.no_grad():
            self._calls += 1
            self.torch.manual_seed(request.seed if request.seed is not None else self._calls)
            start = time.perf_counter()
            output = self.model.generate(
                **prompt,
                max_new_tokens=request.max_tokens or self.cfg.max_tokens,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                top_p=None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
            latency = time.perf_counter() - start
        prompt_len = prompt["input_ids"].shape[1]
        new_tokens = output[0, prompt_len:]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        calls = parse_tool_calls(text) if request.tools else []
        return ChatResult(
            content=None if calls else text, tool_calls=calls, prompt_tokens=prompt_len,
            completion_tokens=int(new_tokens.shape[0]), model=self.name, latency_s=latency,
            finish_reason="length" if new_tokens.shape[0] >= (request.max_tokens or self.cfg.max_tokens) else "stop",
        )  # fmt: skip


def export_gguf_to_hf(gguf_path: Path, out_dir: Path) -> Path:
    """A GGUF file → a dense, trainable transformers checkpoint folder (weights de-quantized).

    The local trainer starts from this; the `hf` backend loads it.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # The weights are dense now; drop the GGUF quantizer marks so save_pretrained writes plain tensors.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
