"""Scenario files: validated sections, distributions, ToB sections, loading and cross-key checks."""
