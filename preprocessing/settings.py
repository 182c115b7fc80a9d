"""The settings the processed data depends on, and their checks (run before any data is read)."""
from configurator import ConfigError

# Any change of these rebuilds ddata/processed/; they are recorded in meta.json["settings"].
USED = ("num_windows", "window_days", "window_stride_days", "use_oldest_window", "split_by",
        "split_seed", "max_len", "use_item2vec", "w2v_window", "w2v_epochs", "w2v_min_count",
        "w2v_sample", "w2v_max_tokens", "embed_dim", "open_candidates")


def used(cfg):
    """The settings of cfg that shape the processed data, by name."""
    return {name: getattr(cfg, name) for name in USED}


def check(cfg):
    """Raises ConfigError naming the first combination of settings that cannot give a sound dataset
    (each setting alone is checked by configurator.load)."""
    if cfg.window_stride_days < cfg.window_days:
        raise ConfigError(f"settings window_stride_days={cfg.window_stride_days}, window_days={cfg.window_days}: "
                          "a stride shorter than a window makes the training label days overlap the dev/test "
                          "label days; expected window_stride_days >= window_days")
    if cfg.num_windows - (0 if cfg.use_oldest_window else 1) < 2:
        raise ConfigError(f"settings num_windows={cfg.num_windows}, use_oldest_window={cfg.use_oldest_window} "
                          "leave no training window: the newest window is dev/test and the oldest is unused "
                          "unless use_oldest_window=True")
