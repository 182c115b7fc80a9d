"""Trains DeepCTR's DIN or DIEN (TensorFlow) on the benchmark's arrays and reports samples per second.

Run with the `deepctr` environment's python (bench/.venvs/deepctr). DeepCTR is written for Keras 2,
so `tf.keras` is pointed at the tf_keras package before TensorFlow loads. DIEN runs as DeepCTR's
own example does: AUGRU with negative sampling (its auxiliary net).
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import peer_inputs  # noqa: E402  (after the Keras switch above)
import timing  # noqa: E402


def main():
    args = peer_inputs.parse_args(["DIN", "DIEN"])

    def body():
        import deepctr
        import tensorflow as tf
        from deepctr.feature_column import DenseFeat, SparseFeat, VarLenSparseFeat
        from deepctr.models import DIEN, DIN

        model, inputs, arrays, sizes = peer_inputs.build_peer_model(
            args, (SparseFeat, VarLenSparseFeat, DenseFeat), DIN, DIEN)
        model.compile(tf.keras.optimizers.Adam(), "binary_crossentropy")
        batch = sizes["batch_size"]
        clock = timing.StepClock(batch, args.warmup_steps, args.steps, args.repeats, args.repeat_budget_s)
        rows = clock.max_steps * batch
        x = {name: inputs[name][:rows] for name in model.input_names}

        class Clock(tf.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if clock.step_done():
                    self.model.stop_training = True

        model.fit(x, arrays["label_buy"][:rows], batch_size=batch, epochs=1, verbose=0, shuffle=False,
                  callbacks=[Clock()])
        result = clock.result()
        result["library"] = f"DeepCTR {deepctr.__version__}"
        result["framework"] = f"TensorFlow {tf.__version__} (tf-keras)"
        return result

    timing.run_guarded(body)


if __name__ == "__main__":
    main()
