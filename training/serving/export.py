"""Export of a run: its network with the best weights as a TensorFlow SavedModel (Keras 3
`model.export`), for serving without this code.

    python -m training.serving.export [run=<run id>|best] [key=value ...]      (what sh scr/export.sh runs)

Writes ddata/results/<run id>/saved_model/. Its `serve` endpoint takes the processed feature arrays
by name, as meta.json["features"] describes them (sparse ids int32 [B], sequences int32 [B, T] of
any T, padded in front with 0, dense float32 [B, D]), and returns the probabilities: {"main"}, and
{"main", "ctr", "cvr"} for a multi-task model (ESCM2-DR also "imputed_error").

    served = tf.saved_model.load("ddata/results/<run id>/saved_model")
    probabilities = served.serve({"item": ..., "hist_item": ..., ...})

It is `model.export` spelled out with keras.export.ExportArchive (what model.export runs), because
model.export cannot pass SaveOptions: the recurrences' custom gradients (layers/gru_scan.py) capture
loop state that a SavedModel cannot hold, and serving needs no gradient, so they are left out.
"""
import sys
from pathlib import Path

from training.loop.quiet_start import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import configurator  # noqa: E402
from errors import run_cli  # noqa: E402
from training.record.output_folder import written_whole  # noqa: E402
from training.serving.saved_run import load_network, split_arguments  # noqa: E402

FOLDER = "saved_model"


def write_saved_model(net, target):
    """Writes the SavedModel of a keras.Model into the folder target (replaced whole)."""
    with written_whole(target) as folder:
        archive = keras.export.ExportArchive()
        archive.track_and_add_endpoint("serve", net, [{name: keras.InputSpec(dtype=tensor.dtype, shape=tensor.shape)
                                                        for name, tensor in net.input.items()}])
        archive.write_out(str(folder), options=tf.saved_model.SaveOptions(experimental_custom_gradients=False),
                          verbose=False)
    return target


def export(cfg, run):
    """Writes the run's SavedModel folder; returns its path."""
    row, _, _, _, net = load_network(cfg, run)
    target = write_saved_model(net, Path(cfg.results_dir) / row["run_id"] / FOLDER)
    print(f"exported run {row['run_id']} to {target}")
    return target


def main(argv):
    rest, options = split_arguments(argv, {"run": "best"})
    return export(configurator.load(rest), options["run"])


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
