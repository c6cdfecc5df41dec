# CPU image of the captioning server: `image-captioning serve` on port 8080.
#
#   docker build -t image-captioning-serve .
#   docker run --rm -p 8080:8080 -v "$PWD/pretrained_models/clipcap-coco:/models/model:ro" image-captioning-serve
#
# The model folder (written by `ClipCap.save_pretrained`) is mounted read-only at /models/model;
# extra `serve` flags go after the image name (e.g. `--strategy beam --max-batch-size 16`).
# `docker stop` sends SIGTERM: the server stops accepting, answers what it accepted, exits 0.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml setup.cfg README.md ./
COPY custom_architectures ./custom_architectures
COPY image_captioning ./image_captioning
RUN pip install ".[serve]"

RUN useradd --create-home --uid 10001 captioner
USER captioner

EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz').status != 200)"
ENTRYPOINT ["image-captioning", "serve", "/models/model", "--host", "0.0.0.0", "--port", "8080"]
