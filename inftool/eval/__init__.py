"""Stage: evaluation. BFCL categories from the bfcl-eval package data (single-turn with BFCL's own
AST checker, multi-turn against BFCL's own tool classes and checker), re-scoring a saved result
file, the held-out synthetic set, and the capability gaps that set the next round's mix."""

from inftool.eval.bfcl import (
    CATEGORIES,
    LIVE,
    MULTI_TURN,
    NON_LIVE,
    SYSTEM,
    Scores,
    accuracy_table,
    bfcl_record,
    bfcl_summary,
    evaluate_bfcl,
)
from inftool.eval.rescore import rescore_bfcl

__all__ = ["CATEGORIES", "LIVE", "MULTI_TURN", "NON_LIVE", "SYSTEM", "Scores", "accuracy_table", "bfcl_record",
           "bfcl_summary", "evaluate_bfcl", "rescore_bfcl"]  # fmt: skip
