"""How long and in what steps a network trains, sized to the training split and the dev buyers.

A fixed batch of 2048 with the learning rate halved after each pass suits the demo (170k training
samples, 83 steps a pass) and starves a real log of a few thousand samples: 4 steps a pass, the
learning rate near zero after 25 passes, and no network near its plateau. So, with the settings'
"auto":
- batch_size: the power of two nearest to the split's size / STEPS_PER_PASS, from MIN_BATCH to
  MAX_BATCH (the demo keeps 2048; a split of 7,500 samples gets 128);
- eval_every: EVALUATIONS_PER_PASS dev evaluations a pass;
- the learning rate decays after each pass, or each `min_updates` updates when a pass is shorter;
- early stopping waits `min_updates` updates and MIN_EVALUATIONS evaluations before it may stop a
  run, and with few dev buyers it watches the mean dev Main AUC of the last few evaluations (one
  evaluation of 20 buyers moves by ±0.05 by chance: a lucky early one would end the run);
- training never runs past max_epochs passes.
"""
import dataclasses
import math

AUTO = "auto"
STEPS_PER_PASS = 64
MIN_BATCH, MAX_BATCH = 64, 2048
EVALUATIONS_PER_PASS = 4
MIN_EVALUATIONS = 8
SMOOTHING_BUYERS = 200  # dev buyers from which one evaluation's AUC is steady enough to select on
MAX_SMOOTHING = 5


@dataclasses.dataclass(frozen=True)
class Schedule:
    batch_size: int
    steps_per_pass: int
    period_steps: int  # training steps between dev evaluations
    periods: int  # evaluation periods at most
    decay_steps: int  # steps between learning-rate decays
    patience: int  # evaluations without a better selection AUC before stopping
    first_stop: int  # evaluation periods before early stopping may end the run
    smoothing: int  # dev evaluations averaged into the selection AUC

    @property
    def max_steps(self):
        return self.periods * self.period_steps

    def describe(self):
        return (f"batch {self.batch_size}, {self.steps_per_pass} steps a pass, dev evaluated every "
                f"{self.period_steps} steps (at most {self.periods} times), learning rate decayed every "
                f"{self.decay_steps} steps" + (f", selection on the mean dev AUC of the last {self.smoothing}"
                                               if self.smoothing > 1 else ""))


def auto_batch_size(train_size):
    target = max(train_size / STEPS_PER_PASS, 1.0)
    return int(min(max(2 ** round(math.log2(target)), MIN_BATCH), MAX_BATCH))


def plan(cfg, train_size, dev_buyers, replicas=1):
    """The Schedule of cfg for a training split of train_size samples and dev_buyers dev buyers."""
    batch = auto_batch_size(train_size) if cfg.batch_size == AUTO else cfg.batch_size
    batch = max(replicas, batch - batch % replicas)  # every replica gets an equal share
    steps_per_pass = math.ceil(train_size / batch)
    total_steps = cfg.max_epochs * steps_per_pass
    period = max(1, round(steps_per_pass / EVALUATIONS_PER_PASS)) if cfg.eval_every == AUTO else cfg.eval_every
    period = min(period, total_steps)  # one evaluation at least, even when eval_every is longer than training
    periods = max(1, total_steps // period)  # never past max_epochs
    first_stop = min(periods, max(MIN_EVALUATIONS, math.ceil(cfg.min_updates / period)))
    smoothing = min(MAX_SMOOTHING, max(1, math.ceil(SMOOTHING_BUYERS / max(dev_buyers, 1))))
    return Schedule(batch_size=batch, steps_per_pass=steps_per_pass, period_steps=period, periods=periods,
                    decay_steps=max(steps_per_pass, cfg.min_updates), patience=cfg.patience,
                    first_stop=first_stop, smoothing=smoothing)
