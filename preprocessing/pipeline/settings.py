"""The settings the processed data depends on, and their checks (run before any data is read)."""
from configurator import ConfigError
from preprocessing.pipeline.windows import purged_count, training_count

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
    if training_count(cfg.num_windows, cfg.window_days, cfg.window_stride_days, cfg.use_oldest_window) < 1:
        purged = purged_count(cfg.window_days, cfg.window_stride_days)
        unused = 0 if cfg.use_oldest_window else 1
        why = "the newest window is dev/test"
        if purged:
            which = "window 1 is" if purged == 1 else f"windows 1..{purged} are"
            why += (f", {which} purged (a stride shorter than a window puts their label days inside the dev/test "
                    "label days)")
        if unused:
            why += " and the oldest is unused unless use_oldest_window=True"
        raise ConfigError(f"settings num_windows={cfg.num_windows}, window_days={cfg.window_days}, "
                          f"window_stride_days={cfg.window_stride_days}, use_oldest_window={cfg.use_oldest_window} "
                          f"leave no training window: {why}; expected num_windows >= {2 + purged + unused}")
