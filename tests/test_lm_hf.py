"""The `hf` backend loads a real local checkpoint (the embedded GGUF exported to transformers) and generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from inftool.config import HFLMConfig
from inftool.errors import UserError
from inftool.lm import ChatRequest, build_client
from inftool.lm.embedded import default_model_path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from inftool.lm.hf import export_gguf_to_hf

    return export_gguf_to_hf(default_model_path(), tmp_path_factory.mktemp("smollm2-hf"))


def test_exported_checkpoint_generates_text_and_calls(checkpoint: Path):
    assert (checkpoint / "config.json").is_file() and any(checkpoint.glob("*.safetensors"))
    client = build_client("assistant", HFLMConfig(path=str(checkpoint), temperature=0.0, max_tokens=20))
    result = client.complete(ChatRequest(messages=[{"role": "user", "content": "Say hello."}]))
    assert result.content and result.completion_tokens > 0 and result.model == f"hf:{checkpoint.name}"
    assert client.stats.calls == 1 and client.stats.prompt_tokens > 0


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path):
    with pytest.raises(UserError, match=r"no config\.json"):
        build_client("assistant", HFLMConfig(path=str(tmp_path)))
