"""Builds the ResNet-50 + LSTM baseline captioner from a plain config dict (a preset's `model` section)."""

from custom_architectures.clipcap.clipcap_model import ClipCapModel
from custom_architectures.lstm_captioner.lstm_captioner_decoder import LSTMDecoder
from custom_architectures.lstm_captioner.lstm_captioner_image_encoder import ResNet50ImageEncoder
from custom_architectures.lstm_captioner.lstm_captioner_image_projection import ImageProjection


def build_lstm_captioner(config):
    """config: {"image_encoder": {...ResNet50ImageEncoder args}, "decoder": {...LSTMDecoder args}}.

    The image feature becomes the LSTM's first input through an `ImageProjection` (the mapper,
    prefix_length 1), and `ClipCapModel` joins the three: the baseline trains, decodes, saves and
    loads exactly as a ClipCap model does. An optional "mapper" section overrides the projection's
    arguments; a "type" key (the model family) is ignored.
    """
    image_encoder = ResNet50ImageEncoder(**config.get("image_encoder", {}), name="image_encoder")
    decoder = LSTMDecoder(**config.get("decoder", {}), name="decoder")
    mapper_config = {"input_dim": image_encoder.output_dim, "embedding_dim": decoder.embedding_dim, **config.get("mapper", {})}
    mapper = ImageProjection(**mapper_config, name="mapper")
    return ClipCapModel(image_encoder, mapper, decoder)
