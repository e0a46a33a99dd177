"""Benchmarks for specloom: run them with `python -m bench <name>` (see bench/README.md)."""
