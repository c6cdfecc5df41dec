"""The `train` section of a training preset, as one typed record with its defaults in one place."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """How `train` runs; every field can be set in a preset's "train" section or with `--set train.<field>=...`.

    Args:
        epochs: passes over the training captions.
        batch_size: captions per step.
        learning_rate: AdamW peak learning rate.
        warmup_steps: linear warmup steps, then linear decay to 0 at the last step.
        weight_decay: AdamW weight decay.
        max_caption_length: caption tokens kept (the end token included).
        train_image_encoder: train CLIP jointly from pixels; False trains on frozen, cached CLIP embeddings.
        train_decoder: fine-tune GPT-2 (the official MLP recipe); False keeps it frozen.
        append_end_token: end every caption with <|endoftext|>, and stop decoding there.
        seed: seeds initialisation and the data order (a function of seed and epoch, so resuming is exact).
        mixed_precision: "auto" (mixed bfloat16 on a GPU, float32 elsewhere), True or False.
        jit_compile: compile the train step with XLA.
        init_from: a model folder or known name to start from, instead of the preset's random model.
        init_image_encoder: a `train-clip` run folder, or a ClipCap model folder or known name, whose image
            encoder (and its config) the model starts from.
        video_frames: uniform frames sampled per video: averaged into its embedding (1: its middle frame, the
            only choice when the image encoder trains from pixels), or for a temporal model (mapper "temporal")
            kept in order as its clip (at most the mapper's max_frames); the saved model samples videos the same way.

    Example:
    ```python
    options = TrainOptions.from_dict({"epochs": 3, "batch_size": 32, "learning_rate": 1e-3})
    ```
    """

    epochs: int
    batch_size: int
    learning_rate: float
    warmup_steps: int = 0
    weight_decay: float = 0.01
    max_caption_length: int = 40
    train_image_encoder: bool = False
    train_decoder: bool = True
    append_end_token: bool = True
    seed: int = 0
    mixed_precision: "str | bool" = "auto"
    jit_compile: bool = True
    init_from: "str | None" = None
    init_image_encoder: "str | None" = None
    video_frames: int = 8

    @classmethod
    def from_dict(cls, section):
        """Options from a preset's "train" section; an unknown key is an error naming the known ones."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"Unknown train option(s) {unknown}; known: {', '.join(sorted(known))}.")
        return cls(**section)
