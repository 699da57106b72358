"""Stage: verification gates and the gated reward."""
