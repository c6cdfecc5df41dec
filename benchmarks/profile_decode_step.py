"""Where one greedy decode step's time goes: GPT-2 124M, batch 1 and batch 32, float32.

    python benchmarks/profile_decode_step.py              # ~2 minutes on 2 CPU cores
    python benchmarks/profile_decode_step.py --quick      # fewer repeats
    python benchmarks/profile_decode_step.py --threads 2 --batches 1,32 --cache-length 30

Each part of `LayerCacheForward.step` (image_captioning/generation/kv_cache.py) is compiled on its
own, the way `CaptionGenerator` compiles the whole loop for that many rows (a plain TensorFlow graph
below `xla_min_rows` rows, XLA from there), over all 12 layers with their own weights, and timed
(the fastest of `--repeats` calls after a warm-up: on a shared machine, the least disturbed):

- layer norms: ln_1 and ln_2 of every block;
- q/k/v projections: one fused (hidden, 3 hidden) product per block, as the step runs them, and
  beside it the three keras-hub EinsumDense layers the step ran before issue 19 (not in the sum);
- cache update: writing the step's key and value at its position (in place under XLA, a select
  over the cache in a plain graph);
- attention: scores, mask, softmax and context over a cache of `--cache-length` positions;
- output projection: `attn_c_proj` as one (hidden, hidden) product;
- MLP: `mlp_c_fc` (GELU included) and `mlp_c_proj`;
- LM head: the final layer norm and the tied-embedding product to 50257 logits (also split into
  halves, the parallel form the step uses at small batches);
- token choice: argmax (`search.first_argmax`) and the chosen token's log-softmax (logsumexp) over the logits;
- dispatch: a compiled function that does nothing (the cost of one call, counted in every row);
- whole step: `LayerCacheForward.step` + token choice, one call; and the step inside the real
  loop: (time of 20 tokens - time of 1 token) / 19 through `CaptionGenerator.generate`.

"Rest" is the whole step minus the sum of the parts (each part's dispatch cost subtracted):
what the graph, the loop and running the parts one after another cost beyond the parts themselves.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--cache-length", type=int, default=30, help="prefix 10 + 20 tokens")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 repeats")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 5
    args.batches = [int(b) for b in args.batches.split(",")]
    return args


def best_ms(function, args, repeats):
    """The fastest of `repeats` calls after a warm-up: on a shared machine, the one least disturbed."""
    function(*args)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times) * 1e3


def main():
    args = parse_args()
    import keras
    import numpy as np

    from benchmarks.machine import describe_machine, set_threads

    threads = set_threads(args.threads)
    from keras import ops

    from custom_architectures.clipcap import ClipCapMLPMapper
    from custom_architectures.gpt2 import GPT2Decoder
    from image_captioning.generation import CaptionGenerator
    from image_captioning.generation.compile import compile_function
    from image_captioning.generation.kv_cache import lm_head_logits
    from image_captioning.generation.search import first_argmax

    print(describe_machine())
    print(f"backend {keras.config.backend()}, {threads}; cache length {args.cache_length}, {args.repeats} repeats")
    decoder = GPT2Decoder()  # GPT-2 124M, random weights
    length = args.cache_length
    rng = np.random.default_rng(0)
    generator = CaptionGenerator((ClipCapMLPMapper(), decoder), batch_buckets=args.batches)

    for batch in args.batches:
        jit = generator._use_xla(batch)
        forward = generator._forward(True, jit)  # the forward the generator's loop runs
        blocks = forward.blocks
        heads, head_dim, width = forward.heads, forward.head_dim, decoder.hidden_dim

        def compiled(function):
            return compile_function(function, [decoder, forward], jit_compile=jit)

        x = ops.convert_to_tensor(rng.standard_normal((batch, width)).astype("float32"))
        q = ops.convert_to_tensor(rng.standard_normal((batch, heads, head_dim)).astype("float32"))
        cache = ops.convert_to_tensor(rng.standard_normal((batch, heads, length, head_dim)).astype("float32"))
        memory = tuple(ops.convert_to_tensor(rng.standard_normal((batch, heads, length, head_dim)).astype("float32"))
                       for _ in range(2 * len(blocks)))
        logits = ops.convert_to_tensor(rng.standard_normal((batch, decoder.vocabulary_size)).astype("float32"))
        token_ids = ops.convert_to_tensor(rng.integers(0, 50257, (batch,)).astype("int32"))
        index = ops.convert_to_tensor(length - 5, "int32")

        def each_block(part):
            def run(*inputs):
                return [part(view, *inputs) for view in blocks]
            return run

        def attention(view, q, keys, values, index):
            visible = (ops.arange(length, dtype="int32") <= index)[None, None, :]
            scores = ops.einsum("rhd,rhld->rhl", q, keys)
            scores = ops.where(visible, scores, -1e9)
            return ops.einsum("rhl,rhld->rhd", ops.softmax(scores, axis=-1), values)

        def cache_update(view, k, keys, index):
            at_index = (ops.arange(length, dtype="int32") == index)[None, None, :, None]
            return forward._write(keys, k, index, at_index)

        def choose(logits):
            token = first_argmax(logits)
            return token, ops.take_along_axis(logits, token[:, None], axis=-1)[:, 0] - ops.logsumexp(logits, axis=-1)

        def each_fused(part):
            def run(*inputs):
                return [part(i, *inputs) for i in range(len(blocks))]
            return run

        def whole_step(memory, token_ids, index):
            step_logits, new_memory = forward.step(memory, token_ids, index)
            return choose(step_logits), new_memory

        parts = [
            ("layer norms (ln_1, ln_2) x12", each_block(lambda v, x: (v.ln_1(x), v.ln_2(x))), (x,)),
            ("q/k/v projections x12", each_fused(lambda i, x: forward._query_key_value(i, x)), (x,)),
            ("cache update (k and v) x12", each_block(lambda v, q, keys, i: (cache_update(v, q, keys, i),
                                                                            cache_update(v, q, keys, i))), (q, cache, index)),
            ("attention over the cache x12", each_block(lambda v, q, c, i: attention(v, q, c, c, i)), (q, cache, index)),
            ("output projection x12", each_fused(lambda i, q: forward._output_projection(i, q)), (q,)),
            ("MLP (fc + GELU + proj) x12", each_block(lambda v, x: v.mlp_c_proj(v.mlp_c_fc(x))), (x,)),
            ("LM head (final norm + logits)", lambda x: decoder.logits(decoder.backbone.layer_norm(x)), (x,)),
            ("token choice (argmax, log-softmax)", choose, (logits,)),
        ]
        dispatch = best_ms(compiled(lambda x: x), (x,), args.repeats)
        rows = [(name, best_ms(compiled(function), inputs, args.repeats) - dispatch) for name, function, inputs in parts]
        step = best_ms(compiled(whole_step), (memory, token_ids, index), args.repeats)
        split = best_ms(compiled(lambda x: lm_head_logits(decoder, decoder.backbone.layer_norm(x), parts=2)),
                          (x,), args.repeats) - dispatch
        single = best_ms(compiled(lambda x: lm_head_logits(decoder, decoder.backbone.layer_norm(x), parts=1)),
                           (x,), args.repeats) - dispatch
        three_einsums = best_ms(compiled(each_block(lambda v, x: tuple(
            dense(x[:, None]) for dense in (v.attn_query, v.attn_key, v.attn_value)))), (x,), args.repeats) - dispatch

        # The step inside the real loop: CaptionGenerator, 20 tokens minus 1 token, per step.
        clip = rng.standard_normal((batch, 512)).astype("float32")
        loop = {}
        for tokens in (1, 20):
            loop[tokens] = best_ms(lambda: generator.generate(clip, max_length=tokens, stop_tokens=()), (),
                                     max(3, args.repeats // 4))
        in_loop = (loop[20] - loop[1]) / 19

        print()
        print(f"batch {batch} ({'XLA' if jit else 'plain graph'}), ms per decode step")
        print(f"{'part':<38} {'ms':>8} {'% of step':>10}")
        for name, value in rows:
            print(f"{name:<38} {value:>8.2f} {100 * value / step:>9.0f}%")
        rest = step - dispatch - sum(value for _, value in rows)
        print(f"{'rest (graph, ordering, glue)':<38} {rest:>8.2f} {100 * rest / step:>9.0f}%")
        print(f"{'dispatch of one compiled call':<38} {dispatch:>8.2f} {100 * dispatch / step:>9.0f}%")
        print(f"{'whole step, one compiled call':<38} {step:>8.2f} {100:>9.0f}%")
        print(f"{'step inside the generate loop':<38} {in_loop:>8.2f}   (20 tokens {loop[20]:.1f} ms, 1 token {loop[1]:.1f} ms)")
        print(f"LM head as one product {single:.2f} ms, as two parallel halves {split:.2f} ms")
        print(f"q/k/v as three keras-hub einsums per block (the step before issue 19): {three_einsums:.2f} ms")
    print()
    print(describe_machine().replace("load average", "load average now"))


if __name__ == "__main__":
    main()
