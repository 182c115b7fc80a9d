"""Where raw logs come from: the importers of public logs, the demo generator and its oracle, and
the twin of a real log."""
