"""Synthesis: mechanism tables and meta-analysis of the outcome data extracted from studies."""
