"""The pure numpy equations of docs/model.md §1–5: token cost, usage, revenue, retention, economics."""
