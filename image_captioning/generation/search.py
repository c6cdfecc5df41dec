"""Greedy, sampling and beam-search loops written with `keras.ops` only, so one body compiles on every backend.

Everything has a static shape: `B` inputs (a batch-size bucket, padded rows marked invalid), `R`
decoded rows (B times the beams or samples per input), a cache or embedding buffer of
`prefix_length + max_length` positions, and `max_length` token columns. The loop is an
`ops.while_loop` that stops as soon as every valid row has emitted a stop token, so a compiled
call is traced once per (bucket, max_length) and early stopping still saves the work. The model
is reached only through a forward from `kv_cache`.
"""

import keras
from keras import ops

NEG_INF = -1e30  # finite "minus infinity": keeps arithmetic (scores + NEG_INF) NaN-free


def repeat_rows(tensors, times):
    """Repeats every row `times` times (row order r0, r0, ..., r1, r1, ...), over a tree of tensors."""
    if times == 1:
        return tensors
    return keras.tree.map_structure(lambda t: ops.repeat(t, times, axis=0), tensors)


def gather_rows(tensors, rows):
    return keras.tree.map_structure(lambda t: ops.take(t, rows, axis=0), tensors)


def is_stop(token_ids, stop_tokens):
    """token_ids (...,) int32, stop_tokens (S,) int32 padded with -1 -> bool (...,)."""
    return ops.any(ops.equal(token_ids[..., None], stop_tokens), axis=-1)


def write_column(tokens, column, values):
    """tokens[..., column] = values, with a traced `column`."""
    width = ops.shape(tokens)[-1]
    hit = ops.equal(ops.arange(width, dtype="int32"), column)
    return ops.where(hit, values[..., None], tokens)


def first_argmax(values):
    """int32 index of the first largest value of each row of values (R, V), as `ops.argmax` gives it.

    Written as a max and then a min over the positions that hold it: XLA's CPU argmax (one
    reduction carrying value and index) took 6 ms on (32, 50257) logits on the 2-core AMD EPYCs,
    against 1.7 ms for these two plain reductions, about 5 % of a batch-32 decode step.
    """
    vocabulary = ops.shape(values)[-1]
    largest = ops.max(values, axis=-1, keepdims=True)
    positions = ops.where(values == largest, ops.arange(vocabulary, dtype="int32")[None, :], vocabulary)
    return ops.minimum(ops.min(positions, axis=-1), vocabulary - 1)  # a NaN row would match nowhere


def sample_tokens(scaled_logits, uniform, top_k, top_p):
    """Draws one token per row by inverse CDF over the top-k / top-p-filtered distribution.

    scaled_logits (R, V) already divided by the temperature; uniform (R,) in [0, 1); top_k ()
    int32 (V for no limit); top_p () float32 (> 1 for no limit). All traced values, so changing
    them does not retrace. The most likely token is always kept.
    """
    vocabulary = ops.shape(scaled_logits)[-1]
    sorted_logits, sorted_ids = ops.top_k(scaled_logits, vocabulary, sorted=True)
    probs = ops.softmax(sorted_logits, axis=-1)
    cumulative = ops.cumsum(probs, axis=-1)
    ranks = ops.arange(vocabulary, dtype="int32")[None, :]
    keep = ops.logical_and(ranks < top_k, (cumulative - probs) < top_p)
    keep = ops.logical_or(keep, ranks == 0)
    kept = ops.where(keep, probs, ops.zeros_like(probs))
    cdf = ops.cumsum(kept, axis=-1)
    target = uniform[:, None] * cdf[:, -1:]
    position = ops.sum(ops.cast(cdf <= target, "int32"), axis=-1)
    position = ops.minimum(position, ops.sum(ops.cast(keep, "int32"), axis=-1) - 1)
    return ops.take_along_axis(sorted_ids, position[:, None], axis=-1)[:, 0]


def decode_sequences(forward, prefix, valid, uniforms, temperature, top_k, top_p, stop_tokens, max_length, copies, sample):
    """Greedy (official `generate2`) or sampled decoding, `copies` sequences per input.

    Returns token_ids (B*copies, max_length) int32 (0 after the stop), lengths (B*copies,) int32
    (stop token included), and scores (B*copies,): mean log-probability of the emitted tokens
    under softmax(logits / temperature).
    """
    prefix_length = ops.shape(prefix)[1]
    logits, memory = forward.start(prefix, prefix_length + max_length)
    logits = repeat_rows(logits, copies)
    memory = repeat_rows(memory, copies)
    valid = repeat_rows(valid, copies)
    rows = ops.shape(logits)[0]

    def select(logits, column):
        scaled = logits / temperature
        if sample:
            token = sample_tokens(scaled, ops.take(uniforms, column, axis=1), top_k, top_p)
        else:
            token = first_argmax(scaled)
        token = ops.cast(token, "int32")
        # The chosen token's log-softmax, without writing the whole (R, V) log-softmax out.
        return token, ops.take_along_axis(scaled, token[:, None], axis=-1)[:, 0] - ops.logsumexp(scaled, axis=-1)

    def emit(state, logits):
        column, memory, token_ids, lengths, scores, done = state
        token, log_prob = select(logits, column)
        active = ops.logical_not(done)
        token = ops.where(active, token, 0)
        token_ids = write_column(token_ids, column, token)
        lengths = lengths + ops.cast(active, "int32")
        scores = scores + ops.where(active, log_prob, 0.0)
        done = ops.logical_or(done, ops.logical_and(active, is_stop(token, stop_tokens)))
        return column + 1, memory, token_ids, lengths, scores, done

    state = (
        ops.convert_to_tensor(0, "int32"),
        memory,
        ops.zeros((rows, max_length), "int32"),
        ops.zeros((rows,), "int32"),
        ops.zeros((rows,), "float32"),
        ops.logical_not(valid),
    )
    state = emit(state, logits)

    def cond(column, memory, token_ids, lengths, scores, done):
        return ops.logical_and(column < max_length, ops.logical_not(ops.all(done)))

    def body(column, memory, token_ids, lengths, scores, done):
        previous = ops.take(token_ids, column - 1, axis=1)
        logits, memory = forward.step(memory, previous, prefix_length + column - 1)
        return emit((column, memory, token_ids, lengths, scores, done), logits)

    _, _, token_ids, lengths, scores, _ = ops.while_loop(cond, body, state, maximum_iterations=max_length)
    scores = scores / ops.cast(ops.maximum(lengths, 1), "float32")
    return token_ids, lengths, scores


def decode_beams(forward, prefix, valid, temperature, stop_tokens, max_length, num_beams):
    """Beam search with the official `generate_beam` rules, batched over inputs.

    Scores are log-softmax sums; candidates are ranked by the sum divided by the sequence length;
    a finished beam has one candidate (token 0) that adds no cost and no length, so it stays
    among the candidates; an input stops when all its beams have emitted a stop token.

    Returns token_ids (B, K, max_length) int32, lengths (B, K) int32 and scores (B, K) (sum of
    log-probabilities / length), beams unsorted.
    """
    prefix_length = ops.shape(prefix)[1]
    logits, memory = forward.start(prefix, prefix_length + max_length)
    batch, vocabulary = ops.shape(logits)
    log_probs = ops.log_softmax(logits / temperature, axis=-1)
    scores, first = ops.top_k(log_probs, num_beams, sorted=True)  # (B, K)
    first = ops.cast(first, "int32")
    token_ids = write_column(ops.zeros((batch, num_beams, max_length), "int32"), 0, first)
    lengths = ops.ones((batch, num_beams), "float32")
    stopped = ops.logical_or(is_stop(first, stop_tokens), ops.logical_not(valid)[:, None])
    memory = repeat_rows(memory, num_beams)

    vocab_ids = ops.arange(vocabulary, dtype="int32")
    finished_row = ops.where(vocab_ids == 0, 0.0, NEG_INF)  # official: -inf except token 0 -> 0
    beam_rows = ops.arange(batch, dtype="int32")[:, None] * num_beams  # (B, 1)
    identity = beam_rows + ops.arange(num_beams, dtype="int32")[None, :]

    def cond(column, memory, token_ids, lengths, scores, stopped):
        return ops.logical_and(column < max_length, ops.logical_not(ops.all(stopped)))

    def body(column, memory, token_ids, lengths, scores, stopped):
        previous = ops.reshape(ops.take(token_ids, column - 1, axis=2), (-1,))
        logits, memory = forward.step(memory, previous, prefix_length + column - 1)
        log_probs = ops.log_softmax(logits / temperature, axis=-1)
        log_probs = ops.reshape(log_probs, (batch, num_beams, vocabulary))
        log_probs = ops.where(stopped[..., None], finished_row, log_probs)
        scores_sum = scores[..., None] + log_probs
        grown = lengths + ops.cast(ops.logical_not(stopped), "float32")
        average = scores_sum / grown[..., None]
        best, flat = ops.top_k(ops.reshape(average, (batch, num_beams * vocabulary)), num_beams, sorted=True)
        flat = ops.cast(flat, "int32")
        source = flat // vocabulary
        token = flat % vocabulary
        new_lengths = ops.take_along_axis(grown, source, axis=1)
        new_tokens = ops.take_along_axis(token_ids, source[..., None], axis=1)
        new_tokens = write_column(new_tokens, column, token)
        new_stopped = ops.logical_or(ops.take_along_axis(stopped, source, axis=1), is_stop(token, stop_tokens))
        new_scores = best * new_lengths
        # An input whose beams have all stopped is frozen (the official loop has ended for it).
        frozen = ops.all(stopped, axis=1, keepdims=True)  # (B, 1)
        lengths = ops.where(frozen, lengths, new_lengths)
        token_ids = ops.where(frozen[..., None], token_ids, new_tokens)
        stopped = ops.where(frozen, stopped, new_stopped)
        scores = ops.where(frozen, scores, new_scores)
        rows = ops.where(frozen, identity, beam_rows + source)
        memory = gather_rows(memory, ops.reshape(rows, (-1,)))
        return column + 1, memory, token_ids, lengths, scores, stopped

    state = (ops.convert_to_tensor(1, "int32"), memory, token_ids, lengths, scores, stopped)
    _, _, token_ids, lengths, scores, _ = ops.while_loop(cond, body, state, maximum_iterations=max_length)
    return token_ids, ops.cast(lengths, "int32"), scores / lengths
