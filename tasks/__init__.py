"""Evaluation tasks of Li et al. 2019 Section 3, one module per task."""
