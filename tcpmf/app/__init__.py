"""Widgets for notebooks and the Voila app."""
