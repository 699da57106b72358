"""Stage: evaluation (BFCL categories from the bfcl-eval package data)."""

from inftool.eval.bfcl import NON_LIVE, accuracy_table, evaluate_bfcl

__all__ = ["NON_LIVE", "accuracy_table", "evaluate_bfcl"]
