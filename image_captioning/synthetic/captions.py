"""Compositional English captions for synthetic scenes: several paraphrases per scene.

Every template states only facts of the scene (colour, kind, size, position, relation,
motion, background), and colour words always come right before the shape word
("a large red circle"), which keeps captions easy to check against pixels.
"""

from image_captioning.synthetic.vocabulary import MOTIONS, POSITION_PHRASES, relation, with_article

MIN_CAPTIONS = 3
MAX_CAPTIONS = 5


def image_captions(scene, rng):
    """3 to 5 different captions of an ImageScene, in random order.

    Example:
    ```python
    image_captions(scene, np.random.default_rng(0))
    # ['a large red circle on the left', 'there is a large red circle on the left', ...]
    ```
    """
    if len(scene.shapes) == 1:
        candidates = _one_shape_captions(scene.shapes[0], scene.background)
    else:
        candidates = _two_shape_captions(*scene.shapes, scene.background)
    return _pick(candidates, rng)


def video_captions(video, rng):
    """3 to 5 different captions of a VideoScene; videos with a cut describe both shots."""
    if len(video.shots) == 1:
        return _pick(_shot_sentences(video.shots[0]), rng)
    first_clauses, second_clauses = (_shot_clauses(shot) for shot in video.shots[:2])
    candidates = []
    for connector in (
        "{}, then {}",
        "{}, then the scene cuts to {}",
        "{} followed by {}",
        "a video of {} that cuts to {}",
        "two shots: {}, and {}",
    ):
        first = first_clauses[int(rng.integers(len(first_clauses)))]
        second = second_clauses[int(rng.integers(len(second_clauses)))]
        candidates.append(connector.format(first, second))
    return _pick(candidates, rng)


def _one_shape_captions(shape, background):
    full, short = with_article(shape.words), with_article(shape.short_words)
    where = POSITION_PHRASES[shape.position]
    backdrop = with_article(background.words)
    return [
        f"{full} {where}",
        f"{short} {where} of the image",
        f"there is {full} {where}",
        f"{full} {where} against {backdrop}",
        f"{backdrop} with {full} {where}",
        f"a picture of {full} {where}",
    ]


def _two_shape_captions(first, second, background):
    full_a, full_b = with_article(first.words), with_article(second.words)
    short_a, short_b = with_article(first.short_words), with_article(second.short_words)
    where_a, where_b = POSITION_PHRASES[first.position], POSITION_PHRASES[second.position]
    candidates = [
        f"{full_a} {where_a} and {full_b} {where_b}",
        f"{full_b} {where_b} and {full_a} {where_a}",
        f"there is {full_a} {where_a} and {full_b} {where_b}",
        f"two shapes: {short_a} {where_a} and {short_b} {where_b}",
        f"{short_a} and {short_b} on {with_article(background.words)}",
    ]
    if relation(first.position, second.position):
        candidates.append(f"{full_a} {relation(first.position, second.position)} {full_b}")
        candidates.append(f"{full_b} {relation(second.position, first.position)} {full_a}")
    return candidates


def _shot_sentences(shot):
    full, short = with_article(shot.shape.words), with_article(shot.shape.short_words)
    backdrop = with_article(shot.background.words)
    start, end = shot.shape.position, shot.end_position
    if end is None:
        where = POSITION_PHRASES[start]
        return [
            f"{full} {where}",
            f"{full} stays still {where}",
            f"{short} {where} of the frame",
            f"{full} {where} against {backdrop}",
        ]
    direction = MOTIONS[(start, end)]
    return [
        f"{full} moves from {start} to {end}",
        f"{short} moving from the {start} to the {end}",
        f"{full} moves {direction}",
        f"{full} moves {direction} across {backdrop}",
        f"{short} travels from the {start} of the frame to the {end}",
    ]


def _shot_clauses(shot):
    """Noun phrases describing one shot, for joining two shots into one caption."""
    full, short = with_article(shot.shape.words), with_article(shot.shape.short_words)
    if shot.end_position is None:
        where = POSITION_PHRASES[shot.shape.position]
        return [f"{full} {where}", f"{short} {where}"]
    start, end = shot.shape.position, shot.end_position
    return [
        f"{full} moving from {start} to {end}",
        f"{short} moving {MOTIONS[(start, end)]}",
        f"{full} moving {MOTIONS[(start, end)]}",
    ]


def _pick(candidates, rng):
    """Between MIN_CAPTIONS and MAX_CAPTIONS distinct candidates, in random order."""
    unique = list(dict.fromkeys(candidates))
    count = min(int(rng.integers(MIN_CAPTIONS, MAX_CAPTIONS + 1)), len(unique))
    chosen = rng.choice(len(unique), size=count, replace=False)
    return [unique[int(index)] for index in chosen]
