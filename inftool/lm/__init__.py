"""Stage: the LMs behind the agent roles."""
