"""The one exception type for mistakes a user can make (bad recipe, bad spec, unreachable LM).

The entrypoint prints it as a single line and exits with status 2; it never shows a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; the message says what, where, and how."""

    exit_code = 2
