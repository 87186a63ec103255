"""Inputs as distributions: portfolios, sampling, Monte Carlo batches, runs on disk, sensitivity, discovery."""
