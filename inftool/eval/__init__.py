"""Stage: evaluation. BFCL categories from the bfcl-eval package data (single-turn with the
gates' matcher, multi-turn against BFCL's own tool classes and checker), the held-out synthetic
set, and the capability gaps that set the next round's mix."""

from inftool.eval.bfcl import CATEGORIES, LIVE, MULTI_TURN, NON_LIVE, accuracy_table, bfcl_summary, evaluate_bfcl

__all__ = ["CATEGORIES", "LIVE", "MULTI_TURN", "NON_LIVE", "accuracy_table", "bfcl_summary", "evaluate_bfcl"]
