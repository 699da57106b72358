"""Stage: compile the agents' DSPy programs with the optimizer named in `conf/optimize/`,
scored by metrics built from the gates:

- `tools` (ToolServer): the share of simulated results that are schema-valid and consistent
  (ids the call passed come back unchanged);
- `user` (UserSimulator): the share of its plans whose episodes pass every gate;
- `assistant`: the GatedReward of its first decision on a plan-labelled prompt.

Each trainee wraps the real agent and runs its real code, so what the optimizer changes
(instructions, demos) is what the agent sends next time. Compiled programs are saved as JSON
(`recipes/NAME.<agent>.json` beside the recipe, or RUN/optimize/) and loaded by
`agents.<agent>.program`, or automatically when they sit beside the recipe.
"""

from inftool.optimize.compile import compile_agents, program_paths

__all__ = ["compile_agents", "program_paths"]
