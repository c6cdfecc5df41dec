"""Caption generation speed: ours vs the official ClipCap algorithm vs Hugging Face PyTorch cached,
with ratios that hold still under noise and the floor that this CPU's matrix products set.

    python benchmarks/bench_generation.py                 # 5 rounds, ~4 minutes on 2 CPU cores
    python benchmarks/bench_generation.py --quick         # smoke run: 2 rounds, 4 tokens, batch 1 and 4
    python benchmarks/bench_generation.py --threads 2 --rounds 7
    KERAS_BACKEND=jax python benchmarks/bench_generation.py --torch-device cuda --batches 1,32,256 \\
        --no-official        # on a GPU: see benchmarks/gpu/run_generation_bench.sh

Everything runs side by side in this one process, with random weights at real sizes: CLIP ViT-B/32
(OpenAI's PyTorch `clip/model.py` and our Keras port of the same weights), the official ClipCap MLP
mapper (prefix 10) and GPT-2 124M. Every side generates exactly `--tokens` tokens (no stop token),
so all do equal work:

- ours: `CaptionGenerator` (Keras on the current backend; compiled, batched, KV-cached), in
  float32 (the parity-tested path) and with `compute_dtype="bfloat16"`;
- official: the official `generate2` / `generate_beam` algorithms in PyTorch (batch 1, GPT-2
  re-run over the whole sequence at every step, no cache); its per-image cost does not depend on
  the batch, so larger batches reuse the batch-1 per-image time;
- HF cached: Hugging Face `GPT2LMHeadModel.generate` from prefix embeddings, KV cache, batched;
- HF bf16: the same (and OpenAI's CLIP) with bfloat16 weights, end to end, so that ours in
  bfloat16 is compared like with like.

Noise control: PyTorch and TensorFlow get the same intra-op and inter-op thread counts
(`--threads`, default: all cores). After one untimed warm-up call of everything, each round times
every side once per case, the sides in alternating order (reversed every other round), and
measures each framework's float32 and bfloat16 GEMM rates and the memory read bandwidth. A ratio
(e.g. HF / ours) is taken within each round, and the min / median / max over rounds are printed,
beside the CPU model, its matrix-relevant ISA features (AVX2, AVX-512, AVX512-BF16, AMX), the core
count and the load average (at the start and in every round).

The floors (`benchmarks/floor.py`):
- FLOP floor, for batch 32: the matrix-product FLOPs of ViT-B/32 + mapper + `--tokens` cached
  GPT-2 tokens per image divided by the best measured GEMM rate of that dtype;
- batch-1 floor: each pass at its roofline, max(FLOPs / GEMM rate, weight bytes / bandwidth).
  Batch-1 decoding is memory-bound: every generated token reads all of GPT-2's weights once.
No implementation on this CPU can be faster than either.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BEAMS = 5
# The targets of issue 19, on the median over rounds: ours float32 vs HF cached (float32), ours
# bfloat16 vs HF bfloat16, and ours float32 vs the floors.
HF_TARGETS = {"end to end, batch 1": 1.3, "beam 5, batch 1": 2.0, "end to end, batch 32": 1.5}
HF_BF16_TARGETS = {"end to end, batch 32": 1.5}
FLOOR_TARGET = 1.3  # end to end, batch 32: at most this many times the FLOP floor
BANDWIDTH_FLOOR_TARGET = 1.5  # end to end, batch 1: at most this many times the roofline (bandwidth) floor


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="intra- and inter-op threads, every side")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (>= 5 for ratios worth reading)")
    parser.add_argument("--tokens", type=int, default=20, help="tokens generated per caption (forced)")
    parser.add_argument("--batches", default="1,32", help="comma-separated batch sizes (greedy and end to end)")
    parser.add_argument("--gemm-size", type=int, default=2048, help="side of the square GEMM measured")
    parser.add_argument("--torch-device", default="cpu", help="device of the PyTorch sides (cuda on a GPU)")
    parser.add_argument("--no-official", action="store_true", help="skip the (slow, uncached) official algorithm")
    parser.add_argument("--no-bf16", action="store_true", help="skip ours and HF in bfloat16")
    parser.add_argument("--no-beam", action="store_true", help="skip beam search")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 rounds, 4 tokens, batches 1 and 4, GEMM 512, no official algorithm")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.tokens, args.batches, args.gemm_size, args.no_official = 2, 4, "1,4", 512, True
    args.batches = sorted({int(b) for b in args.batches.split(",")})
    if args.rounds < 1 or args.threads < 1 or args.tokens < 1 or args.batches[0] < 1:
        parser.error("--rounds, --threads, --tokens and --batches must be positive.")
    return args


def spread(values, digits=2):
    """'median (min-max)' of a list of numbers."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


class Torch:
    """The PyTorch sides: official algorithms (batch 1, no cache) and HF generate (cached)."""

    def __init__(self, clipcap, visual, device, tokens, dtype="float32"):
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.dtype = getattr(torch, dtype)
        self.clipcap = clipcap.to(self.device, self.dtype)
        self.visual = visual.to(self.device, self.dtype)
        for module in self.visual.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.float()  # OpenAI CLIP's own reduced precision: its LayerNorm runs in float32
        self.tokens = tokens

    def cast(self, dtype):
        """The same sides with `dtype` copies of the weights (HF in bfloat16, to compare like with like)."""
        import copy

        return Torch(copy.deepcopy(self.clipcap), copy.deepcopy(self.visual), self.device, self.tokens, dtype)

    def _done(self, output):
        """Outputs come back to the host, as ours do (and CUDA work is finished)."""
        return output.cpu() if hasattr(output, "cpu") else output

    def encode(self, images):
        with self.torch.no_grad():
            pixels = self.torch.from_numpy(images.transpose(0, 3, 1, 2).copy()).to(self.device, self.dtype)
            return self.visual(pixels)

    def prefix(self, clip):
        return self.clipcap.prefix_embeddings(self.torch.as_tensor(clip, device=self.device).to(self.dtype))

    def official(self, clip, beam=False):
        from unitest.references.official_decoding import official_generate2, official_generate_beam

        outputs = []
        with self.torch.no_grad():
            for row in self.torch.as_tensor(clip, dtype=self.torch.float32, device=self.device):
                prefix = self.prefix(row[None])
                if beam:
                    outputs.append(official_generate_beam(self.clipcap.gpt, prefix, BEAMS, self.tokens, stop_token_index=None))
                else:
                    outputs.append(official_generate2(self.clipcap.gpt, prefix, self.tokens, stop_token_index=None))
        return outputs

    def hf(self, clip, beam=False):
        with self.torch.no_grad():
            prefix = self.prefix(clip)
            options = dict(num_beams=BEAMS, num_return_sequences=BEAMS, early_stopping=False) if beam else {}
            return self._done(self.clipcap.gpt.generate(
                inputs_embeds=prefix,
                attention_mask=self.torch.ones(prefix.shape[:2], dtype=self.torch.long, device=self.device),
                max_new_tokens=self.tokens,
                min_new_tokens=self.tokens,
                do_sample=False,
                use_cache=True,
                pad_token_id=0,
                **options,
            ))

    def end_to_end(self, images):
        return self.hf(self.encode(images))


def build(device, tokens, seed=0):
    from unitest.references.real_size_clipcap import real_size_vit_b32_clipcap

    clipcap, clip, model = real_size_vit_b32_clipcap(seed)
    return Torch(clipcap, clip.visual.eval(), device, tokens), model


def make_cases(args, reference, reference_bf16, generators, images, clip):
    """[(case name, batch, {side: function})]; a side missing from a case is not run there."""
    greedy = dict(max_length=args.tokens, stop_tokens=())
    beam = dict(greedy, strategy="beam", num_beams=BEAMS)
    cases = []

    def ours_sides(call):
        return {name: (lambda g=g: call(g)) for name, g in generators.items()}

    for batch in args.batches:
        clip_b, images_b = clip[:batch], images[:batch]
        sides = ours_sides(lambda g, c=clip_b: g.generate(c, **greedy))
        sides["HF cached"] = lambda c=clip_b: reference.hf(c)
        if batch == 1 and not args.no_official:
            sides["official"] = lambda c=clip_b: reference.official(c)
        cases.append((f"greedy, batch {batch}", batch, sides))
    if not args.no_beam:
        sides = ours_sides(lambda g: g.generate(clip[:1], **beam))
        sides["HF cached"] = lambda: reference.hf(clip[:1], beam=True)
        if not args.no_official:
            sides["official"] = lambda: reference.official(clip[:1], beam=True)
        cases.append(("beam 5, batch 1", 1, sides))
    for batch in args.batches:
        images_b = images[:batch]
        sides = ours_sides(lambda g, i=images_b: g.caption_images(i, **greedy))
        sides["HF cached"] = lambda i=images_b: reference.end_to_end(i)
        if reference_bf16 is not None:
            sides["HF bf16"] = lambda i=images_b: reference_bf16.end_to_end(i)
        if batch == 1 and not args.no_official:
            sides["official"] = lambda i=images_b: reference.official(reference.encode(i).cpu().numpy())
        cases.append((f"end to end, batch {batch}", batch, sides))
    return cases


def main():
    args = parse_args()
    # Thread counts must be set before either framework runs an operation, so the project's
    # modules (which build models) are imported after this.
    import keras
    import numpy as np
    import torch

    from benchmarks.machine import (describe_machine, keras_gemm_gflops, load_average, memory_bandwidth_gbs,
                                    set_threads, torch_gemm_gflops)

    threads = set_threads(args.threads)
    from benchmarks.floor import batch1_floor, caption_flops
    from image_captioning.generation import CaptionGenerator
    from image_captioning.generation.generator import DEFAULT_BUCKETS

    backend = keras.config.backend()
    print(describe_machine())
    print(f"backend {backend}, keras {keras.__version__}, torch {torch.__version__} on {args.torch_device}; {threads}")
    print(f"{args.tokens} tokens forced, {args.rounds} rounds, batches {args.batches}", flush=True)

    reference, model = build(args.torch_device, args.tokens)
    buckets = sorted(set(DEFAULT_BUCKETS) | set(args.batches))
    generators = {"ours f32": CaptionGenerator(model, batch_buckets=buckets)}
    if not args.no_bf16:
        generators["ours bf16"] = CaptionGenerator(model, batch_buckets=buckets, compute_dtype="bfloat16")
    rng = np.random.default_rng(0)
    images = rng.standard_normal((max(args.batches), 224, 224, 3)).astype("float32")
    clip = reference.encode(images).cpu().numpy()
    reference_bf16 = None if args.no_bf16 else reference.cast("bfloat16")
    cases = make_cases(args, reference, reference_bf16, generators, images, clip)

    # Warm-up: tracing and compilation (ours), first-call costs (PyTorch); timed for information.
    first = {}
    for name, _, sides in cases:
        for side, function in sides.items():
            started = time.perf_counter()
            function()
            first[(name, side)] = time.perf_counter() - started
    same_greedy = None
    if not args.no_official:
        ours_tokens = generators["ours f32"].generate(clip[:1], max_length=args.tokens, stop_tokens=())[0][0].token_ids
        same_greedy = ours_tokens == reference.official(clip[:1])[0]

    # Rounds: per case, every side once, in alternating order; GEMM rates of both frameworks in
    # both dtypes and the memory bandwidth, once per round.
    seconds = {(name, side): [] for name, _, sides in cases for side in sides}
    dtypes = ["float32"] + ([] if args.no_bf16 else ["bfloat16"])
    gemm = {(framework, dtype): [] for dtype in dtypes for framework in ("torch", backend)}
    bandwidth = []
    loads = []
    for round_index in range(args.rounds):
        loads.append(load_average())
        gemm_sides = [((name, dtype), lambda name=name, dtype=dtype: (
            torch_gemm_gflops(args.gemm_size, device=args.torch_device, dtype=dtype) if name == "torch"
            else keras_gemm_gflops(args.gemm_size, dtype=dtype))) for name, dtype in gemm]
        for key, measure in gemm_sides[:: 1 if round_index % 2 == 0 else -1]:
            gemm[key].append(measure())
        if args.torch_device == "cpu":
            bandwidth.append(memory_bandwidth_gbs())
        for name, batch, sides in cases:
            order = list(sides.items())
            for side, function in order[:: 1 if round_index % 2 == 0 else -1]:
                started = time.perf_counter()
                function()
                seconds[(name, side)].append((time.perf_counter() - started) / batch)
        load_text = "n/a" if loads[-1] is None else f"{loads[-1][0]:.2f}"
        print(f"  round {round_index + 1}/{args.rounds} done (load average at its start {load_text})", flush=True)

    # The official algorithm's per-image time does not depend on the batch: batch 1's stands in.
    for name, batch, sides in cases:
        if batch > 1 and not args.no_official:
            batch_one = name.replace(f"batch {batch}", "batch 1")
            seconds[(name, "official")] = seconds.get((batch_one, "official"), [])

    side_names = list(generators) + ["official", "HF cached"] + ([] if args.no_bf16 else ["HF bf16"])
    print()
    print(describe_machine().replace("load average", "load average now"))
    load_values = [load[0] for load in loads if load is not None]
    if load_values:
        print(f"1-min load average at the start of each round: {', '.join(f'{v:.2f}' for v in load_values)}")
    for dtype in dtypes:
        print(f"{dtype} GEMM rate, GFLOP/s, median (min-max) over rounds, "
              f"{args.gemm_size}x{args.gemm_size}x{args.gemm_size}: "
              + ", ".join(f"{name} {spread(rates, 1)}" for (name, kind), rates in gemm.items() if kind == dtype))
    if bandwidth:
        print(f"memory read bandwidth, GB/s, median (min-max) over rounds: {spread(bandwidth, 1)}")
    print()
    print("ms per image, median (min-max) over rounds")
    header = f"{'case':<22}" + "".join(f" {side:>21}" for side in side_names)
    print(header)
    print("-" * len(header))
    for name, _, sides in cases:
        cells = []
        for side in side_names:
            values = seconds.get((name, side))
            cells.append(spread([v * 1e3 for v in values], 1) if values else "")
        print(f"{name:<22}" + "".join(f" {cell:>21}" for cell in cells))

    print()
    print("captions per second, median over rounds")
    print(f"{'case':<22}" + "".join(f" {side:>12}" for side in side_names))
    for name, _, sides in cases:
        cells = [seconds.get((name, side)) for side in side_names]
        print(f"{name:<22}" + "".join(f" {1 / statistics.median(v):>12.1f}" if v else f" {'':>12}" for v in cells))

    print()
    print("ratios (the other side's time / ours), taken within each round: median (min-max)")
    ratio_columns = [(other, mine) for mine in generators for other in ("HF cached", "official")]
    if not args.no_bf16:
        ratio_columns.append(("HF bf16", "ours bf16"))
    header = f"{'case':<22}" + "".join(f" {other + ' / ' + mine:>26}" for other, mine in ratio_columns)
    print(header)
    print("-" * len(header))
    medians = {}
    for name, _, sides in cases:
        cells = []
        for other, mine in ratio_columns:
            theirs, ours = seconds.get((name, other)), seconds.get((name, mine))
            if not theirs or not ours:
                cells.append("")
                continue
            ratios = [t / o for t, o in zip(theirs, ours)]
            medians[(name, other, mine)] = statistics.median(ratios)
            cells.append(spread(ratios))
        print(f"{name:<22}" + "".join(f" {cell:>26}" for cell in cells))

    # The floors, from the best GEMM rate of the run in each dtype (median over rounds of the faster
    # framework) and the median bandwidth.
    flops = caption_flops(model.image_encoder, model.mapper, model.decoder, args.tokens)
    total = sum(flops.values())
    best_rate = {dtype: max(statistics.median(r) for (_, kind), r in gemm.items() if kind == dtype) for dtype in dtypes}
    side_dtype = {side: "bfloat16" if "bf16" in side else "float32" for side in generators}
    print()
    print(f"FLOP floor: {total / 1e9:.2f} GFLOP per image ("
          + ", ".join(f"{part} {value / 1e9:.2f}" for part, value in flops.items()) + "), at "
          + ", ".join(f"{best_rate[d]:.1f} GFLOP/s ({d}) -> {total / best_rate[d] / 1e6:.1f} ms" for d in dtypes)
          + " per image")
    floor_ratios = {}
    largest = f"end to end, batch {args.batches[-1]}"
    for side in generators:
        floor_ms = total / best_rate[side_dtype[side]] / 1e6
        values = seconds[(largest, side)]
        ratios = [v * 1e3 / floor_ms for v in values]
        floor_ratios[(largest, side)] = statistics.median(ratios)
        print(f"  {largest}, {side}: {statistics.median(values) * 1e3:.1f} ms per image = {spread(ratios)} x the floor"
              + (f" (target <= {FLOOR_TARGET}x)" if args.batches[-1] == 32 and side == "ours f32" else ""))
    if bandwidth and 1 in args.batches:
        gbs = statistics.median(bandwidth)
        print(f"batch-1 floor (each pass at its roofline: max(FLOPs / GEMM rate, weight bytes / {gbs:.1f} GB/s)):")
        for side in generators:
            dtype = side_dtype[side]
            parts = batch1_floor(model.image_encoder, model.mapper, model.decoder, args.tokens,
                                 best_rate[dtype] * 1e9, gbs * 1e9, bytes_per_weight=4 if dtype == "float32" else 2)
            floor_ms = sum(parts.values()) * 1e3
            values = seconds[("end to end, batch 1", side)]
            ratios = [v * 1e3 / floor_ms for v in values]
            floor_ratios[("end to end, batch 1", side)] = statistics.median(ratios)
            print(f"  {dtype} weights: {floor_ms:.1f} ms (" + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in parts.items())
                  + f"); end to end, batch 1, {side}: {statistics.median(values) * 1e3:.1f} ms = {spread(ratios)} x"
                  + (f" (target <= {BANDWIDTH_FLOOR_TARGET}x)" if side == "ours f32" else ""))

    print()
    print("targets (on the median; ours float32):")
    for name, target in HF_TARGETS.items():
        value = medians.get((name, "HF cached", "ours f32"))
        if value is not None:
            print(f"  {name}: HF cached / ours = {value:.2f}x, target >= {target}x: {'met' if value >= target else 'NOT met'}")
    for name, target in HF_BF16_TARGETS.items():
        value = medians.get((name, "HF bf16", "ours bf16"))
        if value is not None:
            print(f"  {name}: HF bf16 / ours bf16 = {value:.2f}x, target >= {target}x: {'met' if value >= target else 'NOT met'}")
    for (name, side), target in ((("end to end, batch 32", "ours f32"), FLOOR_TARGET),
                                 (("end to end, batch 1", "ours f32"), BANDWIDTH_FLOOR_TARGET)):
        value = floor_ratios.get((name, side))
        if value is not None:
            print(f"  {name}: ours / floor = {value:.2f}x, target <= {target}x: {'met' if value <= target else 'NOT met'}")
    print()
    print("first call (trace + compile + run for ours), s: "
          + ", ".join(f"{name} [{side}] {value:.1f}" for (name, side), value in first.items() if side.startswith("ours")))
    retraced = {key: count for g in generators.values() for key, count in g.trace_counts.items() if count != 1}
    print(f"retraced functions after all calls: {retraced or 'none'}")
    if same_greedy is not None:
        print(f"ours greedy batch 1 tokens == official generate2 tokens: {same_greedy}")


if __name__ == "__main__":
    main()
