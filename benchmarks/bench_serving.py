"""HTTP serving throughput and latency, with dynamic batching on and off, over real loopback clients.

    python benchmarks/bench_serving.py            # 512 requests per cell, 3 rounds (~10 min on 2 cores)
    python benchmarks/bench_serving.py --quick    # 64 requests per cell, 2 rounds (~1-2 min)

Two `image-captioning serve` processes run the same small random model (CLIP ViT width 128,
GPT-2 2 layers x 128, 12 tokens per caption with no stop token, so every request does equal
work): one batching (max batch 32, max wait 5 ms), one not (max batch 1). An asyncio client
keeps `concurrency` requests in flight (1, 8, 32), each a multipart upload of one of the shared
JPEGs, until the cell's requests are done. The two servers are loaded in turns, round after
round, so load from other processes on this shared machine hits both alike. Per cell: requests
per second, client-side p50 / p99 latency, and the mean batch size the server reports on
/metrics; printed as min / median / max over rounds.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import httpx  # noqa: E402

from unitest.test_serving_tiny_model import metric_value  # noqa: E402

BENCH_MODEL = {
    "image_encoder": {"type": "vit", "input_resolution": 64, "patch_size": 16, "hidden_dim": 128, "num_layers": 2, "num_heads": 2, "output_dim": 64},
    "mapper": {"type": "mlp", "prefix_length": 4},
    "decoder": {"vocabulary_size": 50257, "num_layers": 2, "num_heads": 2, "hidden_dim": 128, "intermediate_dim": 512,
                "max_sequence_length": 32, "dropout": 0.0},
}
GENERATION = {"strategy": "greedy", "max_length": 12, "stop_tokens": []}
MODES = {"batching": ["--max-batch-size", "32", "--max-wait-ms", "5"], "no batching": ["--max-batch-size", "1"]}


def save_model(directory):
    from custom_architectures.clipcap import build_clipcap_model
    from image_captioning import ClipCap

    ClipCap(build_clipcap_model(BENCH_MODEL), GENERATION).save_pretrained(directory)


def start_server(model_dir, flags):
    command = [sys.executable, "-c", "import sys; from image_captioning.cli import main; sys.exit(main(sys.argv[1:]))",
               "serve", str(model_dir), "--port", "0",
               "--max-queue", "1024", "--log-level", "warning", *flags]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = process.stdout.readline().strip().removeprefix("serving on ")
    httpx.get(url + "/readyz", timeout=600).raise_for_status()  # waits through model loading and warm-up
    return process, url


async def load(url, photos, concurrency, total):
    latencies = []
    next_index = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:

        async def worker():
            for index in next_index:
                name, data = photos[index % len(photos)]
                started = time.perf_counter()
                response = await client.post("/v1/captions", files={"image": (name, data, "image/jpeg")})
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started), latencies


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_cell(url, photos, concurrency, total):
    before = httpx.get(url + "/metrics").text
    throughput, latencies = asyncio.run(load(url, photos, concurrency, total))
    after = httpx.get(url + "/metrics").text
    batches = metric_value(after, "captioning_batch_size_count") - metric_value(before, "captioning_batch_size_count")
    images = metric_value(after, "captioning_batch_size_sum") - metric_value(before, "captioning_batch_size_sum")
    return {"req/s": throughput, "p50 ms": 1000 * percentile(latencies, 0.5), "p99 ms": 1000 * percentile(latencies, 0.99),
            "mean batch": images / max(batches, 1)}


def spread(values, digits):
    return f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} / {max(values):.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 requests per cell, 2 rounds")
    parser.add_argument("--requests", type=int, help="requests per cell and round (default 512; quick 64)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; quick 2)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    total = args.requests or (64 if args.quick else 512)
    rounds = args.rounds or (2 if args.quick else 3)
    photos = [(path.name, path.read_bytes()) for path in sorted((ROOT.parent / "shared" / "data" / "images").glob("*.jpg"))]

    with tempfile.TemporaryDirectory() as model_dir:
        save_model(model_dir)
        servers = {mode: start_server(model_dir, flags) for mode, flags in MODES.items()}
        try:
            for url in (url for _, url in servers.values()):  # one untimed pass (connections, caches)
                run_cell(url, photos, max(args.concurrency), max(args.concurrency))
            cells = {}
            for _ in range(rounds):
                for concurrency in args.concurrency:
                    for mode, (_, url) in servers.items():
                        cells.setdefault((concurrency, mode), []).append(run_cell(url, photos, concurrency, total))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=120)

    print(f"\n{total} requests per cell, {rounds} rounds; min / median / max over rounds\n")
    print("| concurrency | server | requests/s | p50 latency ms | p99 latency ms | mean batch size |")
    print("|---|---|---|---|---|---|")
    for (concurrency, mode), runs in cells.items():
        columns = [spread([run[key] for run in runs], digits)
                   for key, digits in (("req/s", 1), ("p50 ms", 0), ("p99 ms", 0), ("mean batch", 1))]
        print(f"| {concurrency} | {mode} | " + " | ".join(columns) + " |")


if __name__ == "__main__":
    main()
