"""Benchmarks (``make bench``): speed and memory of the data path, measured, never asserted in tests."""
