"""Linear warmup then linear decay to zero (the official `get_linear_schedule_with_warmup`)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="image_captioning")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate rising linearly to `learning_rate` over `warmup_steps`, then falling to 0 at `total_steps`.

    Args:
        learning_rate: peak learning rate.
        warmup_steps: steps of linear warmup.
        total_steps: step at which the rate reaches zero.

    Example:
    ```python
    optimizer = keras.optimizers.AdamW(WarmupLinearDecay(2e-5, 5000, 100_000))
    ```
    """

    def __init__(self, learning_rate, warmup_steps, total_steps):
        self.learning_rate = learning_rate
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = step / max(self.warmup_steps, 1)
        decay = (self.total_steps - step) / max(self.total_steps - self.warmup_steps, 1)
        return self.learning_rate * ops.maximum(0.0, ops.minimum(warmup, decay))

    def get_config(self):
        return {"learning_rate": self.learning_rate, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}
