"""Phases 3 to 5: planning, atomization and the dependency graph."""
