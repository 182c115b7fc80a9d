"""The peers' runners, run as scripts by each peer's own environment, and the arrays and timing they
share with ours (imported from here as bench.peers.bench_arrays and bench.peers.timing)."""
