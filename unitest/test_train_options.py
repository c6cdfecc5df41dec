"""Training options: one typed record; every shipped preset fits it, and a typo is named."""

import pytest

from image_captioning.training.train_config import TRAINING_PRESETS, load_training_preset
from image_captioning.training.train_options import TrainOptions


@pytest.mark.parametrize("preset", sorted(TRAINING_PRESETS))
def test_every_preset_train_section_is_valid(preset):
    options = TrainOptions.from_dict(load_training_preset(preset)["train"])
    assert options.epochs > 0 and options.batch_size > 0 and options.learning_rate > 0


def test_defaults_live_in_the_record():
    options = TrainOptions.from_dict({"epochs": 1, "batch_size": 2, "learning_rate": 0.1})
    assert (options.train_image_encoder, options.train_decoder, options.append_end_token) == (False, True, True)


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match=r"Unknown train option\(s\) \['epoch'\]"):
        TrainOptions.from_dict({"epoch": 1, "batch_size": 2, "learning_rate": 0.1})
