"""Stage 1: raw API specs → `ToolSpec` / `Toolset` records."""

from inftool.specs.loaders import detect_format, load_file, load_toolset, read_document
from inftool.specs.records import LoadIssue, Toolset, ToolSpec

__all__ = ["LoadIssue", "ToolSpec", "Toolset", "detect_format", "load_file", "load_toolset", "read_document"]
