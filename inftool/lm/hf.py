"""The `hf` backend: a local transformers checkpoint folder, generating on CPU with torch.

The loop uses it for the freshly trained policy (the local trainer writes these folders).
Tools are rendered into the system prompt and calls parsed from the text.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

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


_LLAMA_TENSORS = {  # GGUF name (per block: blk.N.) -> transformers name (model.layers.N.)
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}  # fmt: skip


def _permute_qk(weights: Any, n_head: int) -> Any:
    """llama.cpp stores Q/K rows interleaved per head (its converter's `permute`)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def export_hf_to_gguf(checkpoint: Path, template_gguf: Path, out_path: Path, dtype: str = "f32") -> Path:
    """A trained llama-family checkpoint → GGUF, with the metadata and tokenizer of the GGUF it
    was trained from, so the embedded backend (grammar-constrained, fast) serves the trained
    policy exactly as it served the base model. `dtype` of the matrices: f32 keeps every update
    (small RL steps vanish below f16's or q8_0's resolution), f16/q8_0 trade that for speed."""
    import logging

    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    logging.getLogger("gguf").setLevel(logging.WARNING)  # its writer logs every file at INFO

    template = gguf.GGUFReader(template_gguf)
    arch = template.fields["general.architecture"].contents()
    if arch != "llama":
        raise UserError(f"GGUF export supports llama-family models only ({template_gguf} is '{arch}')")
    n_head = template.fields["llama.attention.head_count"].contents()
    n_head_kv = template.fields["llama.attention.head_count_kv"].contents()
    weights = load_file(str(checkpoint / "model.safetensors"))
    file_type = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                 "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[dtype]  # fmt: skip
    writer = gguf.GGUFWriter(str(out_path), arch)
    for key, field in template.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = field.contents()
        if key == "general.file_type":
            value = int(file_type)
        sub_type = field.types[1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, value, field.types[0], sub_type)
    for tensor in template.tensors:
        name = tensor.name
        if name == "token_embd.weight":
            source = "model.embed_tokens.weight"
        elif name == "output_norm.weight":
            source = "model.norm.weight"
        elif name == "output.weight":
            source = "lm_head.weight"
        else:
            _, block, part, _ = name.split(".")
            source = f"model.layers.{block}.{_LLAMA_TENSORS[part]}.weight"
        data = weights[source].astype(np.float32)
        if name.endswith("attn_q.weight"):
            data = _permute_qk(data, n_head)
        elif name.endswith("attn_k.weight"):
            data = _permute_qk(data, n_head_kv)
        if data.ndim == 2 and dtype == "q8_0":
            q8 = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(data, q8), raw_dtype=q8)
        else:  # norms stay f32, as llama.cpp's converter keeps them
            writer.add_tensor(name, data.astype(np.float16) if data.ndim == 2 and dtype == "f16" else data)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path
