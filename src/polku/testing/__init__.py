"""Helpers the test suite and benchmarks share (not shipped to Lambda)."""
