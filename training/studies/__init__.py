"""Studies over recorded runs: sweeps, the comparison table, reports and paired significance."""
