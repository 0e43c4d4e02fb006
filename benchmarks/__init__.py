"""Benchmarks run by `make bench`.

Each prints absolute figures and ratios to a baseline measured in the same run.
"""
