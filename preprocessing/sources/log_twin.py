"""Fits the demo generator to a raw log, so that it writes a synthetic twin of the log's shape.

    cfg_twin, shape, source = fit(cfg, load_raw(cfg.like))

The twin has the source's users, span and known side attributes; the generator's other settings
(make_demo_data.Shape and the catalogue's size) are found by calibration: the log is generated at the
source's size with the run's seed, measured with log_shape, and each setting moved towards the value
that gives its statistic the source's value (KNOBS), FIT_ROUNDS times. The settings interact a little
(more items per day also means more actions), so every round moves all of them at once, damped. The
twin at another demo_scale keeps the per-user statistics; its counts grow with the scale.
"""
import dataclasses
import types

import numpy as np

from preprocessing.sources import log_shape, make_demo_data

FIT_ROUNDS = 20  # calibration rounds
DAMPING = 0.6  # each round moves a setting by this power of the ratio its statistic asks for
STEP_LIMIT = 1.5  # and at most by this factor
FIT_USERS = 3000  # a larger source is calibrated on a scaled-down twin of this many users

# setting -> (statistic it mainly moves, +1 when they grow together or -1, upper bound)
KNOBS = {
    "demo_users": ("users", 1, np.inf),
    "demo_items": ("items_seen", 1, 1e6),
    "explore": ("categories_seen", 1, 1.0),
    "category_zipf": ("top_categories_share", 1, 4.0),
    "item_zipf": ("top_items_share", 1, 4.0),
    "revisit": ("retained_buyer_pairs", 1, 1.0),
    "activity_median": ("active_days_per_user", 1, 1.0),
    "new_items": ("items_per_active_day", 1, np.inf),
    "browses": ("actions_per_active_day", 1, np.inf),
    "sessions": ("sessions_per_active_day", 1, np.inf),
    "cart": ("mix_cart", 1, np.inf),
    "follow_share": ("mix_follow", 1, 1.0),
    "direct": ("mix_order", 1, np.inf),
    "blind": ("orders_without_earlier_action", 1, 1.0),
    "direct_known": ("orders_without_earlier_day", -1, np.inf),
    "order_after_cart": ("orders_after_cart", 1, np.inf),
    "comment": ("mix_comment", 1, 1.0),
}
SIZES = ("demo_users", "demo_items", "demo_categories")
CATEGORIES = 1.5  # categories in the catalogue per category seen in the source


def fit(cfg, source):
    """(cfg with the twin's sizes and span, its Shape, the source's log_shape) for a raw log (a
    raw_data.RawData); cfg's demo_seed seeds the calibration and demo_scale is kept for the twin."""
    target = log_shape.measure(source.actions, source.items, source.users)
    days = source.actions["action_time"].astype("datetime64[ns]").dt.normalize()
    known = tuple(name.removeprefix("known_") for name, value in target.items()
                  if name.startswith("known_") and value > 0)
    fraction = min(1.0, FIT_USERS / target["users"])
    goal = {name: value * (fraction if log_shape.STATISTICS[name][1] else 1.0) for name, value in target.items()}
    values = {**{name: getattr(make_demo_data.DEMO_SHAPE, name) for name in KNOBS if name not in SIZES},
              "demo_users": goal["users"], "demo_items": 2.0 * goal["items_seen"],
              "demo_categories": CATEGORIES * goal["categories_seen"]}
    # an action type the source lacks is switched off, not approached
    for name, (statistic, _, _) in KNOBS.items():
        if goal[statistic] == 0:
            values[name] = 0.0
    dates = {"demo_start": f"{days.min():%Y-%m-%d}", "demo_end": f"{days.max():%Y-%m-%d}"}
    for _ in range(FIT_ROUNDS):
        trial = _settings(cfg, values, dates, known, scale=1.0)
        actions, items, users = make_demo_data.generate(*trial)
        got = log_shape.measure(actions, items, users)
        for name, (statistic, sign, upper) in KNOBS.items():
            if goal[statistic] > 0:
                ratio = np.clip((goal[statistic] / max(got[statistic], 1e-9)) ** (sign * DAMPING),
                                1 / STEP_LIMIT, STEP_LIMIT)
                values[name] = min(values[name] * ratio, upper)
    values["demo_users"] /= fraction
    values["demo_items"] /= fraction
    twin_cfg, shape = _settings(cfg, values, dates, known, scale=cfg.demo_scale)
    return twin_cfg, shape, target


def _settings(cfg, values, dates, known, scale):
    """(cfg, Shape) of a trial: the sizes rounded, the categories at most the items."""
    items = max(1, round(values["demo_items"]))
    sizes = {"demo_users": max(1, round(values["demo_users"])), "demo_items": items,
             "demo_categories": int(np.clip(round(values["demo_categories"]), 1, items)), "demo_scale": scale}
    shape = make_demo_data.Shape(**{name: float(value) for name, value in values.items() if name not in SIZES},
                                 known=known, seen_items_only=True)
    return types.SimpleNamespace(**{**vars(cfg), **sizes, **dates}), shape


def shape_settings(cfg, shape):
    """The twin's generator settings as JSON-ready values: its sizes, span and shape."""
    return {**{name: getattr(cfg, name) for name in (*SIZES, "demo_scale", "demo_start", "demo_end", "demo_seed")},
            **{name: (list(value) if isinstance(value, tuple) else value)
               for name, value in dataclasses.asdict(shape).items()}}
