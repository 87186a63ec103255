"""Charts, the batch report and spreadsheet exports."""
