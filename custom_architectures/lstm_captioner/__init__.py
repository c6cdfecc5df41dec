from custom_architectures.lstm_captioner.lstm_captioner_builder import build_lstm_captioner
from custom_architectures.lstm_captioner.lstm_captioner_decoder import LSTMDecoder
from custom_architectures.lstm_captioner.lstm_captioner_image_encoder import ResNet50ImageEncoder

__all__ = ["LSTMDecoder", "ResNet50ImageEncoder", "build_lstm_captioner"]
