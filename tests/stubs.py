"""Import stubs for the GPU-only packages OpenRLHF's trainer module imports at the top: Ray,
vLLM and flash-attn cannot be installed on a CPU machine. Only these three are stubbed; every
other import (OpenRLHF itself, DeepSpeed, torch, transformers) is real."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from unittest import mock

GPU_ONLY = {"ray", "vllm", "flash_attn"}


class _Stub(types.ModuleType):
    def __getattr__(self, name: str) -> mock.MagicMock:
        if name.startswith("__"):
            raise AttributeError(name)
        return mock.MagicMock(name=f"{self.__name__}.{name}")


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in GPU_ONLY:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Stub(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:
        pass


def install() -> None:
    if not any(isinstance(f, _StubFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubFinder())
