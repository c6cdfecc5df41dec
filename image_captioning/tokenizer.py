"""The GPT-2 BPE tokenizer, from the official vocabulary files shipped with the package."""

import shutil
from pathlib import Path

GPT2_ASSETS = Path(__file__).resolve().parent / "assets" / "gpt2"
VOCABULARY_FILE = "vocab.json"
MERGES_FILE = "merges.txt"
END_OF_TEXT = "<|endoftext|>"


def load_tokenizer(directory=GPT2_ASSETS):
    """keras-hub's GPT2Tokenizer over `directory/vocab.json` and `directory/merges.txt`."""
    import keras_hub

    directory = Path(directory)
    return keras_hub.tokenizers.GPT2Tokenizer(
        vocabulary=str(directory / VOCABULARY_FILE),
        merges=str(directory / MERGES_FILE),
    )


def save_tokenizer_files(directory, source=GPT2_ASSETS):
    for name in (VOCABULARY_FILE, MERGES_FILE):
        shutil.copyfile(Path(source) / name, Path(directory) / name)
