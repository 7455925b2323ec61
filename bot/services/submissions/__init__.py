"""Essay, poetry and photo contests: ``entries`` (opening a contest, submitting before its
deadline) and ``judging`` (the panel, anonymous 1–10 scores, results with consent, CSV)."""
