"""Start-up time: one image captioned by a fresh process, with an empty compilation cache (cold)
and then with the cache the cold process wrote (warm), against Hugging Face's cold start on a
model of the same size, side by side in one run.

Cases (each a new process per measurement, several rounds, min/median/max):
- `image-captioning caption one.jpg --model shapes-demo` (the shipped small model);
- the same command on a real-size random-weight ClipCap (CLIP ViT-B/32 + MLP mapper, prefix 10 +
  GPT-2 124M; greedy, 20 tokens, no stop token);
- `python -c "import image_captioning; image_captioning.load(DIR).predict('one.jpg')"` on that
  real-size model, with `enable_compilation_cache()` first;
- Hugging Face: `VisionEncoderDecoderModel.from_pretrained(DIR)` + its image processor and tokenizer,
  the steps of the former `pipeline("image-to-text")` + one caption (greedy, exactly 20 new tokens) on a
  random-weight `VisionEncoderDecoderModel` of the same size (ViT-B/32 encoder, GPT-2 124M decoder
  with cross-attention). PyTorch compiles nothing, so it has only a cold column.

The commands run the installed console script and interpreter with PYTHONPATH at this checkout, so
they time the code under test the way a user starts it. Usage:

    python benchmarks/bench_startup.py              # 3 rounds, about 6 minutes on 2 cores
    python benchmarks/bench_startup.py --quick      # 1 round, shapes-demo and Hugging Face only
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
IMAGE = ROOT.parent / "shared" / "data" / "images" / "fruits.jpg"
TOKENIZER = ROOT.parent / "shared" / "data" / "gpt2-tokenizer"
REAL_SIZE_GENERATION = {"strategy": "greedy", "max_length": 20, "stop_tokens": []}  # random weights: always 20 tokens, as HF's side
# What `pipeline("image-to-text")` did (Transformers 5 removed that task, and its "image-text-to-text"
# pipeline cannot run a VisionEncoderDecoderModel with an image processor and a tokenizer): load the
# model, its image processor and tokenizer, preprocess, generate, decode.
HF_CAPTION = """
import sys
import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoTokenizer, VisionEncoderDecoderModel
model = VisionEncoderDecoderModel.from_pretrained(sys.argv[1]).eval()
processor, tokenizer = AutoImageProcessor.from_pretrained(sys.argv[1]), AutoTokenizer.from_pretrained(sys.argv[1])
pixels = processor(Image.open(sys.argv[2]).convert("RGB"), return_tensors="pt").pixel_values
with torch.no_grad():
    tokens = model.generate(pixels, min_new_tokens=20, max_new_tokens=20, do_sample=False, num_beams=1)
print(tokenizer.decode(tokens[0], skip_special_tokens=True))
"""
PREDICT = """
import sys
import image_captioning
from image_captioning.generation.compile_cache import enable_compilation_cache
enable_compilation_cache()
print(image_captioning.load(sys.argv[1]).predict(sys.argv[2], progress=False)[0].caption.text)
"""


def build_real_size_clipcap(directory):
    """Saves the benchmark's real-size random-weight ClipCap (as unitest/references builds it) in `directory`."""
    from image_captioning import ClipCap
    from unitest.references.real_size_clipcap import real_size_vit_b32_clipcap

    _, _, model = real_size_vit_b32_clipcap()
    ClipCap(model, REAL_SIZE_GENERATION).save_pretrained(directory)


def build_hf_captioner(directory):
    """Saves a random-weight ViT-B/32 + GPT-2 124M `VisionEncoderDecoderModel`, its image processor and
    the GPT-2 tokenizer from ../shared/data (offline) in `directory`."""
    from transformers import (GPT2Config, GPT2Tokenizer, ViTConfig, ViTImageProcessor, VisionEncoderDecoderConfig,
                              VisionEncoderDecoderModel)

    encoder = ViTConfig(image_size=224, patch_size=32, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=3072)
    decoder = GPT2Config(add_cross_attention=True, is_decoder=True)
    model = VisionEncoderDecoderModel(config=VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder))
    for name in ("decoder_start_token_id", "pad_token_id", "eos_token_id"):
        setattr(model.config, name, decoder.eos_token_id)
        setattr(model.generation_config, name, decoder.eos_token_id)
    model.save_pretrained(directory)
    ViTImageProcessor(size={"height": 224, "width": 224}).save_pretrained(directory)
    GPT2Tokenizer(vocab_file=str(TOKENIZER / "encoder.json"), merges_file=str(TOKENIZER / "vocab.bpe")).save_pretrained(directory)


def run_seconds(command, cache):
    """Wall seconds of one fresh process; the compilation cache at `cache`. Fails loudly on a non-zero exit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IMAGE_CAPTIONING_COMPILE_CACHE": str(cache),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(map(str, command))} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def cases(models, quick):
    """name: (command, has a warm column)."""
    out = Path(tempfile.mkdtemp(prefix="bench_startup_out_"))
    caption = [BIN / "image-captioning", "caption", IMAGE, "--no-progress", "--out", out, "--model"]
    table = {"CLI caption, shapes-demo": (caption + ["shapes-demo"], True)}
    if not quick:
        table["CLI caption, real-size ClipCap"] = (caption + [models / "clipcap"], True)
        table["Python predict, real-size ClipCap"] = ([sys.executable, "-c", PREDICT, models / "clipcap", IMAGE], True)
    table["HF from_pretrained+generate, ViT+GPT-2"] = ([sys.executable, "-c", HF_CAPTION, models / "hf", IMAGE], False)
    return table


def measure(table, rounds, scratch):
    """{name: {"cold": [...], "warm": [...]}}; each round starts every case from an empty cache folder."""
    times = {name: {"cold": [], "warm": []} for name in table}
    for round_index in range(rounds):
        for name, (command, warm) in table.items():
            cache = scratch / f"cache-{round_index}-{len(times[name]['cold'])}-{abs(hash(name))}"
            times[name]["cold"].append(run_seconds(command, cache))
            if warm:
                times[name]["warm"].append(run_seconds(command, cache))
            print(f"  round {round_index + 1}: {name}: cold {times[name]['cold'][-1]:.2f} s"
                  + (f", warm {times[name]['warm'][-1]:.2f} s" if warm else ""), flush=True)
    return times


def spread(values):
    return f"{min(values):6.2f} {statistics.median(values):6.2f} {max(values):6.2f}" if values else " " * 20


def report(times):
    print(f"\n{'case (wall s, fresh process)':36} {'cold min   med    max':>22} {'warm min   med    max':>22} {'warm/cold':>9}")
    for name, columns in times.items():
        ratio = f"{statistics.median(columns['warm']) / statistics.median(columns['cold']):9.2f}" if columns["warm"] else ""
        print(f"{name:36} {spread(columns['cold']):>22} {spread(columns['warm']):>22} {ratio}")
    hf = next((columns["cold"] for name, columns in times.items() if name.startswith("HF")), None)
    for name, columns in times.items():
        if hf and "real-size ClipCap" in name:
            print(f"ours/HF, {name}: cold {statistics.median(columns['cold']) / statistics.median(hf):.2f}, "
                  f"warm {statistics.median(columns['warm']) / statistics.median(hf):.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="measurements per case and column")
    parser.add_argument("--quick", action="store_true", help="one round; shapes-demo and Hugging Face only")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    if rounds < 1:
        raise SystemExit(f"--rounds must be >= 1, got {args.rounds}.")
    from benchmarks.machine import describe_machine

    print(describe_machine())
    scratch = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    try:
        started = time.perf_counter()
        if not args.quick:
            build_real_size_clipcap(scratch / "clipcap")
        build_hf_captioner(scratch / "hf")
        print(f"models built in {time.perf_counter() - started:.1f} s (not timed below)", flush=True)
        report(measure(cases(scratch, args.quick), rounds, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
