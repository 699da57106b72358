"""Stage: the resumable trajectory store, its exports and the run summary."""

from inftool.data.export import ExportWriter, decision_rows, write_exports
from inftool.data.store import TrajectoryStore
from inftool.data.summary import SummaryTally, summarize, summary_text

__all__ = [
    "ExportWriter",
    "SummaryTally",
    "TrajectoryStore",
    "decision_rows",
    "summarize",
    "summary_text",
    "write_exports",
]
