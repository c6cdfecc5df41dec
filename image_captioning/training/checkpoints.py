"""Per-epoch training checkpoints (model + optimizer + history) and resuming from them."""

import json
import os
from pathlib import Path

import keras

WEIGHTS = "training.weights.h5"
STATE = "state.json"


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves model and optimizer variables and the loss history after every epoch, atomically.

    Args:
        directory: checkpoint folder.
        history: per-epoch metrics restored from an earlier run, extended in place.
    """

    def __init__(self, directory, history):
        super().__init__()
        self.directory = Path(directory)
        self.history = history

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f"partial.{WEIGHTS}"
        self.model.save_weights(partial)
        os.replace(partial, self.directory / WEIGHTS)
        (self.directory / STATE).write_text(json.dumps({"epochs_done": epoch + 1, "history": self.history}))


def restore_checkpoint(model, directory):
    """Loads the last checkpoint into a compiled `model`; returns (epochs_done, history), (0, {}) if none."""
    directory = Path(directory)
    if not (directory / STATE).is_file():
        return 0, {}
    state = json.loads((directory / STATE).read_text())
    model.optimizer.build(model.trainable_variables)
    model.load_weights(directory / WEIGHTS)
    return state["epochs_done"], state["history"]
