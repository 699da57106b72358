"""Records of the specs stage: one `ToolSpec` per callable tool, grouped into a `Toolset`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SpecFormat = Literal["openapi", "openai", "bfcl", "mcp"]


class ToolSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="a valid function name, unique within its toolset")
    description: str = ""
    parameters: dict[str, Any] = Field(description="JSON Schema of the arguments (type object)")
    output_schema: dict[str, Any] | None = None
    domain: str | None = None
    source: str = Field("", description="file#/json/pointer the tool came from")

    def openai_tool(self) -> dict[str, Any]:
        """The tool as an OpenAI `tools` entry."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class LoadIssue(BaseModel):
    """Why part of a spec did not load; the rest of the file still does."""

    model_config = ConfigDict(extra="forbid")

    file: str
    pointer: str = ""
    reason: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: {self.reason}" if self.pointer else f"{self.file}: {self.reason}"


class Toolset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    source: str
    source_format: str = Field(description="detected format, or several joined by '+' for a folder")
    tools: list[ToolSpec] = Field(default_factory=list)
    issues: list[LoadIssue] = Field(default_factory=list)

    def tool(self, name: str) -> ToolSpec:
        for tool in self.tools:
            if tool.name == name:
                return tool
        raise KeyError(name)
