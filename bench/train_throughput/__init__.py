"""Training throughput of our models and of their peers on the same arrays (python -m bench.train_throughput)."""
