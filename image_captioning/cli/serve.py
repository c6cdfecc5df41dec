"""`image-captioning serve MODEL`: the HTTP captioning server (see `image_captioning.serving`)."""

from pathlib import Path

from image_captioning.cli.caption import add_dtype_argument, add_generation_arguments, generation_options, load_captioner


def add_arguments(parser):
    parser.add_argument("model", help="a model folder, a known name or hf://owner/repo[@revision]")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port, printed at start)")
    parser.add_argument("--model-name", default="clipcap", help="the name in /v2/models/{name} URLs")
    parser.add_argument("--max-batch-size", type=int, default=32, help="most images per model call (1: no batching)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="how long a batch may wait to fill")
    parser.add_argument("--max-queue", type=int, default=256, help="images waiting before requests get 503")
    parser.add_argument("--max-upload-mb", type=float, default=64.0, help="largest request body, MiB (larger: 413)")
    parser.add_argument("--max-images-per-request", type=int, default=64)
    parser.add_argument("--media-root", type=Path, help="folder whose files clients may name by relative path")
    parser.add_argument("--upload-dir", type=Path, help="where uploaded videos are kept while captioned (default: a temp folder)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    add_generation_arguments(parser)
    add_dtype_argument(parser)


def settings_from_args(args):
    from image_captioning.serving.settings import ServerSettings

    return ServerSettings(
        model_name=args.model_name, max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms,
        max_queue=args.max_queue, max_body_bytes=int(args.max_upload_mb * (1 << 20)),
        max_images_per_request=args.max_images_per_request, media_root=args.media_root, upload_dir=args.upload_dir,
    )


def run(args):
    try:
        from image_captioning.serving.app import create_app
        from image_captioning.serving.engine import CaptionEngine
        from image_captioning.serving.runner import run_server
    except ImportError as error:
        raise SystemExit(f"serve needs the serve extra ({error}): pip install 'image_captioning[serve]'") from None

    settings = settings_from_args(args)
    engine = CaptionEngine(load_captioner(args), generation_options(args))
    return run_server(create_app(engine, settings), host=args.host, port=args.port, log_level=args.log_level)
