"""Speed and memory benchmarks, never tests: each runs from the repository root as a module,
`python -m bench.<name>` (docs/benchmarks.md)."""

BATCH = "batch_size=2048"  # every benchmark trains at the original's batch, whatever the training split
