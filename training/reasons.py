"""Reasons of a forecast: for a scored (user, item), the REASONS past actions of the user that weighed
most toward the item, each as raw item, raw category, action type, time and weight.

- A model with an attention tower: the real steps of the history with the largest attention
  weights. DIN: the weights of its pooling (the paper's unnormalised weights, or the softmax with
  attention_softmax). DIEN: its softmax attention over the interest states, which scales the
  AUGRU's update gate; the state after an action stands for that action. ESSM: the CVR tower's
  attention when it has one (it judges the purchase), else the CTR tower's.
- A model without attention (DNN, GRU_DNN, GRU_FM, DeepFM, an ESSM of two of them): a plain rule,
  the latest actions on the target's category, then the latest other actions when the history
  holds fewer than REASONS of them; the weight is left empty.
Ties go to the more recent action.
"""
import numpy as np
import pandas as pd
import tensorflow as tf

from preprocessing.pair_features import ACTION_NAMES
from training.input_pipeline import make_dataset

REASONS = 3
TOWER_PREFERENCE = ("cvr_tower", "ctr_tower", "tower")  # ESSM's towers, then a single model's
RULE = "the latest actions on the target's category, then the latest others (no attention in the model)"


def attention_tower(net):
    """(layer name, tower) of the tower whose attention gives the reasons, or (None, None)."""
    names = {layer.name for layer in net.layers}
    for name in TOWER_PREFERENCE:
        if name in names and hasattr(net.get_layer(name), "attention_weights"):
            return name, net.get_layer(name)
    return None, None


def basis(net):
    """How the reasons of this network are chosen, in words (forecast.json)."""
    name, tower = attention_tower(net)
    if tower is None:
        return RULE
    return f"attention weights of the {type(tower).__name__.removesuffix('Tower')} {name.replace('_', ' ')}"


def attention_weights(net, arrays, meta, batch_size):
    """float32 [N, T]: the attention tower's weight of every step of every sample (0 on padding)."""
    _, tower = attention_tower(net)
    embedding = net.get_layer("embedding")
    weigh = tf.function(lambda inputs: tower.attention_weights(embedding(inputs)))
    batches = make_dataset(arrays, meta, batch_size)
    return np.concatenate([weigh(features).numpy() for features, _ in batches], axis=0)


def _top_steps(priority, present):
    """(steps [N, REASONS] int64, -1 where the history has fewer real steps): the real steps of highest
    priority, later steps first among equals."""
    steps = priority.shape[1]
    keyed = np.where(present, priority, -np.inf)[:, ::-1]  # reversed: a stable sort then prefers later steps
    order = np.argsort(-keyed, axis=1, kind="stable")[:, :REASONS]
    chosen = steps - 1 - order
    return np.where(np.take_along_axis(present, chosen, axis=1), chosen, -1)


def reason_steps(net, arrays, meta, batch_size):
    """(steps [N, REASONS], weights [N, REASONS] float, NaN under the rule or for a missing step)."""
    present = np.asarray(arrays["hist_item"]) > 0
    if attention_tower(net)[1] is None:
        same_cate = np.asarray(arrays["hist_cate"]) == np.asarray(arrays["cate"])[:, None]
        # a step of the target's category outranks any other; among equals the later one
        steps = _top_steps(same_cate * present.shape[1] + np.arange(present.shape[1]), present)
        return steps, np.full(steps.shape, np.nan)
    weights = attention_weights(net, arrays, meta, batch_size)
    steps = _top_steps(weights, present)
    chosen = np.take_along_axis(weights, np.maximum(steps, 0), axis=1).astype(np.float64)
    return steps, np.where(steps >= 0, chosen, np.nan)


def reason_columns(steps, weights, arrays, vocab):
    """DataFrame of reason_{k}_item, _cate, _action, _time, _weight (k = 1..REASONS, most weight first)
    with raw ids, action names and times as text; empty cells where the history holds fewer steps."""
    columns = {}
    actions = np.array([""] + [ACTION_NAMES.get(code, str(code)) for code in range(1, 6)], dtype=object)
    for k in range(REASONS):
        step = steps[:, k]
        real = step >= 0
        at = np.maximum(step, 0)[:, None]
        picked = {name: np.take_along_axis(np.asarray(arrays[name]), at, axis=1)[:, 0]
                  for name in ("hist_item", "hist_cate", "hist_action", "hist_time")}
        item = pd.Series(vocab["item"][picked["hist_item"]], dtype=object)
        cate = pd.Series(vocab["cate"][picked["hist_cate"]], dtype=object)
        time = pd.to_datetime(pd.Series(picked["hist_time"]), unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
        columns[f"reason_{k + 1}_item"] = item.where(real, None)
        columns[f"reason_{k + 1}_cate"] = cate.where(real, None)
        columns[f"reason_{k + 1}_action"] = pd.Series(actions[picked["hist_action"]]).where(real, None)
        columns[f"reason_{k + 1}_time"] = time.where(real, None)
        columns[f"reason_{k + 1}_weight"] = weights[:, k].astype(np.float32)
    return pd.DataFrame(columns)
