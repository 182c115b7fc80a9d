"""One line per evaluation period: Keras's own progress lines say "Epoch i/N", but a Keras epoch
here is an evaluation period (training.loop.schedule), not a pass over the training split."""
import time

import keras


class PeriodLog(keras.callbacks.Callback):
    def __init__(self, periods, steps_per_pass, period_steps):
        super().__init__()
        self.periods = periods
        self.steps_per_pass = steps_per_pass
        self.period_steps = period_steps
        self._began = None

    def on_epoch_begin(self, epoch, logs=None):
        self._began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        passes = (epoch + 1) * self.period_steps / self.steps_per_pass
        shown = " - ".join(f"{name} {value:.4f}" for name, value in logs.items()
                           if name.endswith("loss") or name in ("val_main_auc", "val_selection_auc"))
        print(f"evaluation period {epoch + 1}/{self.periods} ({passes:.2f} passes, "
              f"{time.perf_counter() - self._began:.0f} s) - {shown}", flush=True)
