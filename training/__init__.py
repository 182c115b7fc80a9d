"""Everything after the processed data, by stage: loop/ trains a run, record/ keeps what it measured,
studies/ compares runs, serving/ forecasts, exports and backtests with a kept run."""
