"""`image-captioning beam-worker-pool`: a warm SDK worker pool for Beam's portable runner (see
`image_captioning.beam.worker_pool`)."""

import logging


def add_arguments(parser):
    parser.add_argument("--port", type=int, default=50000,
                        help="port that jobs name in --environment_config=HOST:PORT (default 50000; 0: any free port)")
    parser.add_argument("--preload", metavar="MODEL",
                        help="model folder or known name to load before listening (default: load at the first job)")


def run(args):
    from image_captioning.beam.worker_pool import serve_worker_pool

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("image_captioning").setLevel(logging.INFO)  # model loads, with their seconds
    serve_worker_pool(args.port, args.preload)
