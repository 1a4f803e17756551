"""Routing (并联审批): the engine that moves applications through their workflow, and the deadline sweeps."""
