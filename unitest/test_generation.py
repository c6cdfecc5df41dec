"""Caption generation on tiny random ClipCap models, on the current Keras backend.

Checks the decoding engine itself: the official algorithms (tiny PyTorch reference), cached ==
uncached, batched == one at a time, sampling (seeded, top-k, top-p), stop tokens, max_length,
several captions per input, and that repeated calls with the same shapes never retrace.
"""

import keras
import numpy as np
import pytest
import torch
from keras import ops

from custom_architectures.clip import CLIPVisionTransformer
from image_captioning.converters.clipcap import convert_clipcap
from image_captioning.generation import CaptionGenerator, GenerationConfig, GenerationConfigError
from image_captioning.generation.kv_cache import LayerCacheForward, fused_step_matrices, lm_head_logits
from unitest.references.clipcap_official import make_reference_clipcap, official_state_dict, state_dict_numpy
from unitest.references.official_decoding import official_generate2, official_generate_beam

# The torch backend runs the loop eagerly (no compilation, so no traces to count).
COMPILED = keras.config.backend() in ("tensorflow", "jax")
VOCABULARY = 300  # tiny GPT-2 of the reference
MAX_LENGTH = 12


@pytest.fixture(scope="module")
def tiny():
    reference = make_reference_clipcap("mlp", seed=3, tiny=True)
    model = convert_clipcap(state_dict_numpy(official_state_dict(reference)))
    embeddings = np.random.default_rng(7).standard_normal((5, model.mapper.input_dim)).astype("float32")
    return reference, model, embeddings


@pytest.fixture(scope="module")
def generator(tiny):
    return CaptionGenerator(tiny[1], batch_buckets=(1, 2, 4, 8))


def ids(results):
    return [[s.token_ids for s in sequences] for sequences in results]


def frequent_token(generator, embeddings):
    """A token the unconstrained greedy captions emit, to use as a stop token."""
    tokens = [t for s in generator.generate(embeddings, max_length=MAX_LENGTH, stop_tokens=()) for t in s[0].token_ids[1:]]
    return int(np.bincount(tokens).argmax())


def uncached_log_probs(model, clip_embedding, token_ids):
    """Next-token log-probabilities after the prefix and `token_ids` (full re-run, no cache)."""
    logits = model({"clip_embedding": clip_embedding[None], "token_ids": np.asarray([token_ids], "int32")})
    logits = ops.convert_to_numpy(logits)[0, -1].astype("float64")
    return logits - np.log(np.sum(np.exp(logits - logits.max()))) - logits.max()


def test_greedy_matches_official_generate2(tiny, generator):
    reference, _, embeddings = tiny
    stop = frequent_token(generator, embeddings)
    ours = generator.generate(embeddings, max_length=MAX_LENGTH, stop_tokens=(stop,))
    for embedding, result in zip(embeddings, ours):
        with torch.no_grad():
            prefix = reference.prefix_embeddings(torch.from_numpy(embedding[None]))
        expected = official_generate2(reference.gpt, prefix, entry_length=MAX_LENGTH, stop_token_index=stop)
        assert result[0].token_ids == expected
    assert any(r[0].token_ids[-1] == stop and len(r[0].token_ids) < MAX_LENGTH for r in ours)


def test_beam_matches_official_generate_beam(tiny, generator):
    reference, _, embeddings = tiny
    stop = frequent_token(generator, embeddings)
    ours = generator.generate(embeddings, strategy="beam", num_beams=4, max_length=MAX_LENGTH, stop_tokens=(stop,))
    for embedding, result in zip(embeddings, ours):
        with torch.no_grad():
            prefix = reference.prefix_embeddings(torch.from_numpy(embedding[None]))
        expected = official_generate_beam(reference.gpt, prefix, beam_size=4, entry_length=MAX_LENGTH, stop_token_index=stop)
        assert [s.token_ids for s in result] == [tokens for tokens, _ in expected]
        np.testing.assert_allclose([s.score for s in result], [score for _, score in expected], atol=1e-4)


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_cached_equals_uncached(tiny, generator, strategy):
    embeddings = tiny[2]
    options = dict(strategy=strategy, max_length=MAX_LENGTH, stop_tokens=(frequent_token(generator, embeddings),))
    if strategy == "sample":
        options.update(seed=1, num_return_sequences=2, top_k=40)
    cached = generator.generate(embeddings, **options)
    uncached = generator.generate(embeddings, use_cache=False, **options)
    assert ids(cached) == ids(uncached)
    np.testing.assert_allclose(
        [s.score for r in cached for s in r], [s.score for r in uncached for s in r], atol=1e-5
    )


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_batched_equals_one_at_a_time(tiny, generator, strategy):
    embeddings = tiny[2]
    options = dict(strategy=strategy, max_length=MAX_LENGTH, stop_tokens=(frequent_token(generator, embeddings),))
    batched = generator.generate(embeddings, **options)
    single = [generator.generate(embedding[None], **options)[0] for embedding in embeddings]
    assert ids(batched) == ids(single)
    np.testing.assert_allclose([s.score for r in batched for s in r], [s.score for r in single for s in r], atol=1e-5)


def test_inputs_beyond_largest_bucket_are_chunked_in_order(tiny):
    embeddings = np.concatenate([tiny[2], tiny[2][::-1]])  # 10 inputs, buckets up to 4
    generator = CaptionGenerator(tiny[1], batch_buckets=(1, 4))
    results = generator.generate(embeddings, max_length=6)
    assert len(results) == 10
    assert ids(results[:5]) == ids(results[5:][::-1])
    assert not COMPILED or set(generator.trace_counts.values()) == {1}


def test_sampling_is_seeded_and_reproducible(tiny, generator):
    embeddings = tiny[2]
    options = dict(strategy="sample", max_length=MAX_LENGTH, stop_tokens=(), num_return_sequences=3)
    first = generator.generate(embeddings, seed=11, **options)
    assert ids(first) == ids(generator.generate(embeddings, seed=11, **options))
    assert ids(first) != ids(generator.generate(embeddings, seed=12, **options))
    for sequences in first:
        assert len(sequences) == 3
        scores = [s.score for s in sequences]
        assert scores == sorted(scores, reverse=True)
    # Random sampling from a near-uniform tiny model gives distinct captions.
    assert len({tuple(s.token_ids) for s in first[0]}) == 3


def test_top_k_one_and_tiny_top_p_are_greedy(tiny, generator):
    embeddings = tiny[2]
    greedy = generator.generate(embeddings, max_length=MAX_LENGTH, stop_tokens=())
    top_k = generator.generate(embeddings, strategy="sample", top_k=1, seed=0, max_length=MAX_LENGTH, stop_tokens=())
    top_p = generator.generate(embeddings, strategy="sample", top_p=1e-6, seed=0, max_length=MAX_LENGTH, stop_tokens=())
    assert ids(top_k) == ids(greedy) == ids(top_p)


@pytest.mark.parametrize("filters", [{"top_k": 5}, {"top_p": 0.05}, {"top_k": 20, "top_p": 0.1, "temperature": 0.7}])
def test_sampled_tokens_respect_top_k_and_top_p(tiny, generator, filters):
    _, model, embeddings = tiny
    results = generator.generate(embeddings[:2], strategy="sample", seed=5, num_return_sequences=2,
                                 max_length=8, stop_tokens=(), **filters)
    temperature = filters.get("temperature", 1.0)
    narrowed = False
    for embedding, sequences in zip(embeddings, results):
        for sequence in sequences:
            for step, token in enumerate(sequence.token_ids):
                log_probs = uncached_log_probs(model, embedding, sequence.token_ids[:step]) / temperature
                order = np.argsort(-log_probs)
                probs = np.exp(log_probs[order] - log_probs.max())
                probs /= probs.sum()
                rank = int(np.nonzero(order == token)[0][0])
                allowed = VOCABULARY
                if "top_k" in filters:
                    allowed = min(allowed, filters["top_k"])
                if "top_p" in filters:
                    # smallest prefix reaching top_p (+ tolerance for float32 cumulative sums)
                    allowed = min(allowed, int(np.searchsorted(np.cumsum(probs), filters["top_p"] + 1e-5)) + 1)
                narrowed |= allowed < VOCABULARY
                assert rank < allowed, (filters, step, rank, allowed)
    assert narrowed


def test_stop_tokens_and_max_length(tiny, generator):
    embeddings = tiny[2]
    free = generator.generate(embeddings, max_length=MAX_LENGTH, stop_tokens=())
    assert all(len(r[0].token_ids) == MAX_LENGTH for r in free)
    short = generator.generate(embeddings, max_length=4, stop_tokens=())
    assert [r[0].token_ids for r in short] == [r[0].token_ids[:4] for r in free]
    # Stop at the third token of the first caption: that caption ends there, stop token kept.
    stop = free[0][0].token_ids[2]
    stopped = generator.generate(embeddings, max_length=MAX_LENGTH, stop_tokens=(stop, VOCABULARY + 10))
    for unconstrained, result in zip(free, stopped):
        tokens = unconstrained[0].token_ids
        end = tokens.index(stop) + 1 if stop in tokens else MAX_LENGTH
        assert result[0].token_ids == tokens[:end]
    assert len(stopped[0][0].token_ids) <= 3
    # Beam: every returned beam ends at its first stop token or runs to max_length.
    for sequences in generator.generate(embeddings, strategy="beam", max_length=MAX_LENGTH, stop_tokens=(stop,)):
        for s in sequences:
            assert len(s.token_ids) == MAX_LENGTH or (s.token_ids[-1] == stop and stop not in s.token_ids[:-1])


def test_beam_returns_sorted_beams_and_respects_num_return_sequences(tiny, generator):
    embeddings = tiny[2][:3]
    beams = generator.generate(embeddings, strategy="beam", num_beams=5, max_length=8)
    two = generator.generate(embeddings, strategy="beam", num_beams=5, max_length=8, num_return_sequences=2)
    for all_beams, best_two in zip(beams, two):
        assert len(all_beams) == 5 and len({tuple(s.token_ids) for s in all_beams}) == 5
        scores = [s.score for s in all_beams]
        assert scores == sorted(scores, reverse=True)
        assert [s.token_ids for s in best_two] == [s.token_ids for s in all_beams[:2]]


def test_results_carry_text_ids_and_scores(tiny):
    _, model, embeddings = tiny
    generator = CaptionGenerator(model, detokenize=lambda tokens: " ".join(map(str, tokens)), batch_buckets=(4,))
    result = generator.generate(embeddings[:2], max_length=5)[0][0]
    assert result.text == " ".join(map(str, result.token_ids))
    assert np.isfinite(result.score) and result.score < 0


@pytest.mark.skipif(not COMPILED, reason="the torch backend does not compile")
def test_repeated_calls_do_not_retrace(tiny):
    _, model, embeddings = tiny
    generator = CaptionGenerator(model, batch_buckets=(1, 4))
    for batch in (3, 4, 2):  # all in bucket 4
        generator.generate(embeddings[:batch], max_length=MAX_LENGTH, stop_tokens=(batch,))
        generator.generate(embeddings[:batch], strategy="beam", max_length=MAX_LENGTH, temperature=0.5 + batch)
        for seed in (0, 1):
            generator.generate(embeddings[:batch], strategy="sample", max_length=MAX_LENGTH, seed=seed,
                               top_k=batch + 1, top_p=0.5 + 0.1 * batch, temperature=1.0 + batch)
    generator.generate(embeddings[:1], max_length=MAX_LENGTH)
    generator.generate(embeddings[:1], max_length=MAX_LENGTH)
    assert dict(generator.trace_counts) == {
        ("decode", "greedy", 4, 1, MAX_LENGTH, True): 1,
        ("decode", "beam", 4, 5, MAX_LENGTH, True): 1,
        ("decode", "sample", 4, 1, MAX_LENGTH, True): 1,
        ("decode", "greedy", 1, 1, MAX_LENGTH, True): 1,
    }


def test_caption_images_end_to_end(tiny):
    _, model, embeddings = tiny
    encoder = CLIPVisionTransformer(input_resolution=32, patch_size=16, hidden_dim=64, num_layers=1, num_heads=2,
                                    output_dim=model.mapper.input_dim)
    rng = np.random.default_rng(0)
    encoder.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.1 for w in encoder.get_weights()])
    generator = CaptionGenerator(model, image_encoder=encoder, batch_buckets=(2, 4))
    images = rng.standard_normal((3, 32, 32, 3)).astype("float32")
    clip = generator.encode_images(images)
    np.testing.assert_allclose(clip, ops.convert_to_numpy(encoder(images)), atol=1e-5)
    assert ids(generator.caption_images(images, max_length=6)) == ids(generator.generate(clip, max_length=6))
    generator.caption_images(images[:1], max_length=6)
    assert not COMPILED or generator.trace_counts[("encode", 4, 32, 32, 3)] == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"strategy": "nucleus"}, "strategy must be one of"),
        ({"max_length": 0}, "max_length"),
        ({"temperature": 0.0}, "temperature"),
        ({"strategy": "sample", "top_k": 0}, "top_k"),
        ({"strategy": "sample", "top_p": 1.5}, "top_p"),
        ({"strategy": "greedy", "top_k": 5}, "only apply to strategy='sample'"),
        ({"strategy": "greedy", "num_return_sequences": 2}, "one caption per input"),
        ({"strategy": "beam", "num_beams": 3, "num_return_sequences": 4}, "at most num_beams=3"),
        ({"stop_tokens": tuple(range(9))}, "At most 8 stop tokens"),
    ],
)
def test_invalid_options_are_explained(options, message):
    with pytest.raises(GenerationConfigError, match=message):
        GenerationConfig(**options)


def test_invalid_inputs_are_explained(tiny, generator):
    with pytest.raises(ValueError, match=r"shape \(batch, 32\)"):
        generator.generate(np.zeros((2, 7), "float32"))
    with pytest.raises(GenerationConfigError, match="exceeds GPT-2's 64 positions"):
        generator.generate(tiny[2][:1], max_length=100)
    with pytest.raises(GenerationConfigError, match="Unknown generation options"):
        generator.generate(tiny[2][:1], beams=3)
    with pytest.raises(ValueError, match="no image encoder"):
        generator.encode_images(np.zeros((1, 32, 32, 3), "float32"))


def test_bfloat16_copies_decode_without_touching_the_model(tiny):
    _, model, embeddings = tiny
    generator = CaptionGenerator(model, compute_dtype="bfloat16", batch_buckets=(4,))
    assert generator.decoder.compute_dtype == "bfloat16" and model.decoder.compute_dtype == "float32"
    source = ops.convert_to_numpy(model.decoder.backbone.token_embedding.embeddings)
    copy = ops.convert_to_numpy(ops.cast(generator.decoder.backbone.token_embedding.embeddings, "float32"))
    np.testing.assert_allclose(copy, source, rtol=1e-2, atol=1e-6)
    for sequences in generator.generate(embeddings[:3], strategy="beam", max_length=6):
        assert len(sequences) == 5 and all(1 <= len(s.token_ids) <= 6 and np.isfinite(s.score) for s in sequences)
    assert len(generator.generate(embeddings[:3], max_length=6, stop_tokens=())[0][0].token_ids) == 6


def test_lm_head_in_vocabulary_slices_gives_the_same_logits_and_captions(tiny):
    _, model, embeddings = tiny
    hidden = ops.convert_to_tensor(np.random.default_rng(1).standard_normal((3, model.decoder.hidden_dim)), "float32")
    whole = ops.convert_to_numpy(lm_head_logits(model.decoder, hidden))
    for parts in (2, 3):
        sliced = ops.convert_to_numpy(lm_head_logits(model.decoder, hidden, parts))
        if keras.backend.backend() == "tensorflow":
            np.testing.assert_array_equal(sliced, whole)  # each slice is the same dot products
        else:  # XLA on CPU blocks a narrower product differently: last-bit rounding only
            np.testing.assert_allclose(sliced, whole, rtol=0, atol=1e-6)
    captions = {
        parts: ids(CaptionGenerator(model, batch_buckets=(1, 2), lm_head_parts=parts).generate(embeddings[:2], max_length=6))
        for parts in (1, 2)
    }
    assert captions[1] == captions[2]
    with pytest.raises(ValueError, match="lm_head_parts must be"):
        CaptionGenerator(model, lm_head_parts=0)


def test_fused_step_matrices_give_the_same_logits_and_cache_as_the_keras_hub_layers(tiny):
    _, model, embeddings = tiny
    decoder = model.decoder
    prefix = model.embed_prefix(ops.convert_to_tensor(embeddings[:3]))
    layers = LayerCacheForward(decoder)
    _, memory = layers.start(prefix, model.mapper.prefix_length + 4)
    tokens = ops.convert_to_tensor([5, 17, 250], "int32")
    index = model.mapper.prefix_length
    expected, expected_memory = layers.step(memory, tokens, index)
    for in_place in (False, True):
        fused = LayerCacheForward(decoder, fused=fused_step_matrices(decoder), in_place_update=in_place)
        assert layers.variables == [] and len(fused.variables) == 3 * decoder.num_layers
        actual, actual_memory = fused.step(memory, tokens, index)
        np.testing.assert_allclose(ops.convert_to_numpy(actual), ops.convert_to_numpy(expected), rtol=0, atol=1e-5)
        for a, e in zip(actual_memory, expected_memory):
            np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(e), rtol=0, atol=1e-5)
