"""The settings the processed data depends on, and their checks (run before any data is read)."""
from configurator import ConfigError

# Any change of these rebuilds ddata/processed/; they are recorded in meta.json["settings"].
USED = ("num_windows", "window_days", "window_stride_days", "use_oldest_window", "split_by",
        "split_seed", "max_len", "use_item2vec", "w2v_window", "w2v_epochs", "w2v_min_count",
        "w2v_sample", "w2v_max_tokens", "embed_dim")

_POSITIVE = ("num_windows", "window_days", "window_stride_days", "max_len", "embed_dim",
             "w2v_window", "w2v_epochs", "w2v_min_count", "w2v_max_tokens")
SPLIT_MODES = ("user", "random")


def used(cfg):
    """The settings of cfg that shape the processed data, by name."""
    return {name: getattr(cfg, name) for name in USED}


def check(cfg):
    """Raises ConfigError naming the first setting that cannot give a dataset."""
    for name in _POSITIVE:
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"setting {name}={value!r}: expected a positive whole number")
    if not 0 <= cfg.w2v_sample < 1:
        raise ConfigError(f"setting w2v_sample={cfg.w2v_sample!r}: expected a number from 0 (no downsampling) "
                          "to below 1, like 1e-4")
    if cfg.split_by not in SPLIT_MODES:
        raise ConfigError(f"setting split_by={cfg.split_by!r}: expected one of {', '.join(SPLIT_MODES)}")
    if cfg.num_windows - (0 if cfg.use_oldest_window else 1) < 2:
        raise ConfigError(f"settings num_windows={cfg.num_windows}, use_oldest_window={cfg.use_oldest_window} "
                          "leave no training window: the newest window is dev/test and the oldest is unused "
                          "unless use_oldest_window=True")
