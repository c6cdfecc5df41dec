"""The GPT-2 BPE tokenizer, from the official vocabulary files shipped with the package.

Encoding (training, text stop tokens) uses keras-hub's `GPT2Tokenizer`, which takes about 1.3 s to
build its merge tables. Decoding captions needs only `vocab.json`: `GPT2Detokenizer` maps each id to its
bytes and joins them, so `predict` and every Beam worker start without building the tokenizer.
"""

import json
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


def byte_decoder():
    """The inverse of GPT-2's `bytes_to_unicode`: unicode character -> byte value."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    characters = printable[:]
    extra = 0
    for value in range(256):
        if value not in printable:
            printable.append(value)
            characters.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, characters)}


def read_vocabulary(directory):
    """GPT-2's `vocab.json` in `directory`: token string -> id."""
    return json.loads((Path(directory) / VOCABULARY_FILE).read_text(encoding="utf-8"))


def token_byte_table(vocabulary):
    """A list, indexed by id, of each token's raw bytes, plus one trailing b"" (padding);
    <|endoftext|> is b"" too, as captions drop it."""
    decoder = byte_decoder()
    table = [b""] * (max(vocabulary.values()) + 2)
    for token, index in vocabulary.items():
        if token != END_OF_TEXT:
            table[index] = bytes(decoder[c] for c in token)
    return table


class GPT2Detokenizer:
    """GPT-2 token ids -> text, from `vocab.json` alone; equal to keras-hub's `GPT2Tokenizer.detokenize`
    after dropping <|endoftext|> (invalid UTF-8 becomes U+FFFD as there).

    Args:
        directory: a folder with GPT-2's `vocab.json` (a model folder or the package assets).

    Example:
    ```python
    decode = GPT2Detokenizer(GPT2_ASSETS)
    decode([64, 3797, 13])                  # "a cat."
    decode.token_id("<|endoftext|>")        # 50256
    ```
    """

    def __init__(self, directory=GPT2_ASSETS):
        self.vocabulary = read_vocabulary(directory)
        self.table = token_byte_table(self.vocabulary)

    def token_id(self, token):
        """The id of a token as `vocab.json` spells it (e.g. "<|endoftext|>"); KeyError if absent."""
        return self.vocabulary[token]

    def __call__(self, token_ids):
        return b"".join(self.table[int(t)] for t in token_ids).decode("utf-8", errors="replace")
