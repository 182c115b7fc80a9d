"""Candidates beyond the pairs touched: the open window scores (user, item) pairs with an action in
its interaction range only, so a buyer of an item the user never touched there cannot be found. With
open_candidates = N > 0 each user of the open window gets up to N more pairs, from two sources over
the interaction range:
  1. items most often viewed with theirs: for each of the user's items, the items the most other
     users acted on too (co-occurrence among each user's last RECENT_ITEMS distinct items, which
     bounds the self-join), summed over the user's items;
  2. the popular items of the user's categories there: the items with the most actions.
Co-viewed items come first (strongest co-occurrence first), then popular ones (most actions first);
pairs already touched are left out. The candidates are scored by the same model; the open split's
`candidate` array marks them (training.serving.backtest reports figures with and without them).
"""
import dataclasses

import numpy as np
import pandas as pd

RECENT_ITEMS = 20


def _distinct_recent(log, span):
    """DataFrame of the distinct (user, item) in the log slice span, each user's RECENT_ITEMS latest."""
    frame = pd.DataFrame({"user": log.user[span], "item": log.item[span]})
    frame = frame.iloc[::-1].drop_duplicates(["user", "item"])  # the latest action of each pair first
    return frame[frame.groupby("user", sort=False).cumcount() < RECENT_ITEMS]


def candidate_pairs(log, samples, item_cate, per_user):
    """DataFrame (user, item) of up to per_user candidate pairs per user of samples, not among them."""
    span = log.between(*samples.window.interaction_ns)
    recent = _distinct_recent(log, span)
    together = recent.merge(recent, on="user", suffixes=("", "_other"))
    together = together[together["item"] != together["item_other"]]
    strength = together.groupby(["item", "item_other"], sort=False).size().rename("strength").reset_index()
    strength = strength.sort_values(["item", "strength", "item_other"], ascending=[True, False, True], kind="stable")
    strength = strength[strength.groupby("item", sort=False).cumcount() < per_user]
    co_viewed = (recent.merge(strength, on="item")
                 .groupby(["user", "item_other"], sort=False)["strength"].sum().reset_index()
                 .rename(columns={"item_other": "item"}).assign(source=0))

    actions = np.bincount(log.item[span], minlength=len(item_cate))
    popular = pd.DataFrame({"item": np.flatnonzero(actions), "strength": actions[actions > 0]})
    popular["cate"] = item_cate[popular["item"].to_numpy()]
    popular = popular.sort_values(["cate", "strength", "item"], ascending=[True, False, True], kind="stable")
    popular = popular[popular.groupby("cate", sort=False).cumcount() < per_user]
    user_cates = pd.DataFrame({"user": samples.user, "cate": item_cate[samples.item]}).drop_duplicates()
    in_category = user_cates.merge(popular, on="cate")[["user", "item", "strength"]].assign(source=1)

    both = pd.concat([co_viewed, in_category], ignore_index=True)
    both = both.sort_values(["user", "source", "strength", "item"], ascending=[True, True, False, True], kind="stable")
    both = both.drop_duplicates(["user", "item"])
    touched = pd.MultiIndex.from_arrays([samples.user, samples.item])
    both = both[~pd.MultiIndex.from_frame(both[["user", "item"]]).isin(touched)]
    both = both[both.groupby("user", sort=False).cumcount() < per_user]
    return both[["user", "item"]].reset_index(drop=True)


def with_candidates(log, timeline, samples, item_cate, per_user):
    """(WindowSamples of samples and their candidates sorted by user then item, bool [N] candidate)."""
    extra = candidate_pairs(log, samples, item_cate, per_user)
    user = np.concatenate([samples.user, extra["user"].to_numpy(np.int32)])
    item = np.concatenate([samples.item, extra["item"].to_numpy(np.int32)])
    candidate = np.concatenate([np.zeros(len(samples), bool), np.ones(len(extra), bool)])
    order = np.lexsort((item, user))
    user, item, candidate = user[order], item[order], candidate[order]
    zeros = np.zeros(len(user), bool)
    merged = dataclasses.replace(samples, user=user, item=item, label_buy=zeros, label_interact=zeros.copy(),
                                 seq_end=timeline.ends_before(log, samples.window.feature_end_ns)[user])
    return merged, candidate

