"""Benchmarks: the harness behind ``make bench`` and ``make bench-quick`` (see bench/README.md)."""
