"""Metrics with their uncertainty, and paired comparisons of runs on the same samples."""
