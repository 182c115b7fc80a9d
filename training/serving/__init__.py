"""Serving a kept run: forecasts with reasons, the exported model, and the backtest that scores
forecasts against a known future."""
