"""Reads the objects a caption mentions, with the synthetic generator's own vocabulary.

A mention is anchored on a shape word ("circle", "star", ...). The generator always writes
"[size] [colour] kind", so the colour is the word just before the kind and the size the word
before that (or just before the kind when no colour is given). The position and the motion are
searched in the words that follow the kind, up to the next shape word. A relation such as
"to the left of a square" is not an absolute position and leaves the position unstated.
"""

import dataclasses
import re

from image_captioning.synthetic.vocabulary import MOTIONS, POSITION_PHRASES, SHAPE_COLOURS, SHAPE_KINDS, SIZE_RADIUS

_PHRASE_POSITION = {phrase: position for position, phrase in POSITION_PHRASES.items()}
_PHRASE_POSITION["in the center"] = "centre"
_POSITION_PATTERN = re.compile(r"\b(" + "|".join(sorted(_PHRASE_POSITION, key=len, reverse=True)) + r")\b")
_CELL = "|".join(sorted({cell for motion in MOTIONS for cell in motion}))
_FROM_TO = re.compile(rf"\bfrom (?:the )?({_CELL})\b(?: of the frame)? to (?:the )?({_CELL})\b")
_DIRECTION_MOTION = {direction: motion for motion, direction in MOTIONS.items()}
_DIRECTION = re.compile(
    r"\b(?:moves|moving|travels|travelling)\s+(" + "|".join(map(re.escape, _DIRECTION_MOTION)) + r")\b(?! of)"
)
_WORD = re.compile(r"[a-z]+")


@dataclasses.dataclass(frozen=True)
class Mention:
    """One object a caption names; None where the caption does not state the attribute.

    Args:
        kind: a SHAPE_KINDS word.
        colour: a SHAPE_COLOURS word, or None.
        size: "small" / "large", or None.
        position: a POSITION_CELLS key, or None (for a moving shape: where it starts).
        motion: (start, end) cells of a stated motion, or None when the caption states none.

    Example:
    ```python
    parse_caption("a large red circle on the left and a blue star")
    # [Mention("circle", "red", "large", "left", None), Mention("star", "blue", None, None, None)]
    ```
    """

    kind: str
    colour: str = None
    size: str = None
    position: str = None
    motion: tuple = None


def parse_caption(text):
    """The Mentions of `text`, in the order the caption names them."""
    words = [(match.group(), match.start(), match.end()) for match in _WORD.finditer(text.lower())]
    lowered = text.lower()
    anchors = [index for index, (word, _, _) in enumerate(words) if word in SHAPE_KINDS]
    mentions = []
    for number, index in enumerate(anchors):
        colour = _word_before(words, index, 1, SHAPE_COLOURS)
        size = _word_before(words, index, 2 if colour else 1, SIZE_RADIUS)
        span_end = words[anchors[number + 1]][1] if number + 1 < len(anchors) else len(lowered)
        # The span ends before the next shape's own size and colour words.
        span = lowered[words[index][2] : span_end]
        motion = _motion(span)
        position = motion[0] if motion else _position(span)
        mentions.append(Mention(words[index][0], colour, size, position, motion))
    return mentions


def _word_before(words, index, offset, vocabulary):
    if index - offset >= 0 and words[index - offset][0] in vocabulary:
        return words[index - offset][0]
    return None


def _position(span):
    match = _POSITION_PATTERN.search(span)
    return _PHRASE_POSITION[match.group(1)] if match else None


def _motion(span):
    match = _FROM_TO.search(span)
    if match and (match.group(1), match.group(2)) in MOTIONS:
        return (match.group(1), match.group(2))
    match = _DIRECTION.search(span)
    return _DIRECTION_MOTION[match.group(1)] if match else None
