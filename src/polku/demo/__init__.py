"""`make demo`: the whole story on the embedded local twin."""
