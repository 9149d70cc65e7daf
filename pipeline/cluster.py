"""The build's heavy map stages on a Dask distributed cluster (`hfmap build --cluster ADDRESS`).

A build given a scheduler's address connects to it first (CONNECT_TIMEOUT_S, and at least one
worker within FIRST_WORKER_TIMEOUT_S), before any work: an unreachable scheduler is one sentence
(ClusterError). Three stages then map blocks of rows over the cluster's workers and gather the
results in row order (``ClusterRunner.map``): MiniLM's embedding of the texts the embedding cache
does not hold (``embed_on_cluster``; each worker loads the embedder once, in the setup of a worker
plugin, from plain values: ``pipeline.embed.make_embedder``), the placement of the models outside
UMAP's fit sample (pipeline.project) and exact neighbour searches (pipeline.neighbours). TF-IDF
embeds in the build's own process: it is fast there and needs its fitted state.

The results are the ones the build computes in its own process, bit for bit: each block is computed
by the same code on the same rows. MiniLM's vectors depend (in their last bits) on which texts
share a batch, so the texts are split into the very batches sentence-transformers forms in one
process (``encode_batches``), and a partition is a run of whole batches.

Faults: a task runs again elsewhere when its worker dies (the scheduler's rule) or fails
(TASK_RETRIES); when no worker is left for NO_WORKER_GRACE_S the build stops with one sentence,
before anything is written, so the previous build stays current. Not imported without --cluster.

Security: Dask moves pickled tasks and results; a scheduler's port must only be reachable by the
cluster's own machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import xxhash
from distributed import Client, Future, WorkerPlugin, get_worker
from distributed.comm import connect
from distributed.scheduler import KilledWorker
from threadpoolctl import threadpool_info, threadpool_limits
from tqdm.auto import tqdm

from pipeline.embed import Embedder
from pipeline.errors import UserError

CONNECT_TIMEOUT_S = 5.0  # reaching the scheduler
FIRST_WORKER_TIMEOUT_S = 60.0  # a scheduler without workers: wait this long for the first one
NO_WORKER_GRACE_S = 15.0  # a map stops when no worker has been left for this long
TASK_RETRIES = 2  # a task that raised runs again this many times
IN_FLIGHT_PER_WORKER = 4  # blocks submitted ahead per worker (bounds the scheduler's memory)
PARTITION_TEXTS = 1024  # texts per embedding partition (whole batches)
POLL_S = 0.5


class ClusterError(UserError):
    """The Dask cluster cannot do the work: unreachable scheduler, no worker left, a worker with
    another embedder."""


class ClusterRunner:
    """A connected Dask client that maps a function over blocks of rows and gathers the results in
    order, with a progress bar of partitions done."""

    def __init__(self, client: Client, address: str, progress: bool = False) -> None:
        self.client = client
        self.address = address
        self.progress = progress
        self.blas_threads = blas_threads()

    def workers(self) -> int:
        """How many workers the scheduler has now."""
        return len(self.client.nthreads())

    def map(
        self,
        function: Callable,
        blocks: Sequence[tuple],
        shared: tuple = (),
        desc: str = "cluster",
    ) -> list:
        """[function(*block, *shared) for block in blocks], computed on the workers; shared values
        are sent to every worker once (scatter, broadcast) rather than with each block. The
        workers' BLAS uses as many threads as this process's: its results depend on them in their
        last bits (a Dask worker starts with one)."""
        if not blocks:
            return []
        client = self.client
        task = partial(_with_blas_threads, self.blas_threads, function)
        shared_futures = [client.scatter([one], broadcast=True, hash=False)[0] for one in shared]
        token = xxhash.xxh3_64_hexdigest(str((desc, time.time_ns())).encode())
        results: list = [None] * len(blocks)
        pending: dict = {}
        queued = iter(enumerate(blocks))
        without_workers_since: float | None = None
        try:
            with tqdm(
                total=len(blocks), desc=desc, unit="partition", disable=not self.progress
            ) as bar:
                while True:
                    window = IN_FLIGHT_PER_WORKER * max(self.workers(), 1)
                    while len(pending) < window and (queue := next(queued, None)):
                        number, block = queue
                        future = client.submit(
                            task,
                            *block,
                            *shared_futures,
                            key=f"hfmap-{desc}-{token}-{number}".replace(" ", "-"),
                            retries=TASK_RETRIES,
                            pure=False,
                        )
                        pending[future] = number
                    if not pending:
                        return results
                    done = _finished(pending)
                    for future in done:
                        results[pending.pop(future)] = self._result(future)
                        bar.update()
                    if done or self.workers():
                        without_workers_since = None
                    elif without_workers_since is None:
                        without_workers_since = time.monotonic()
                    elif time.monotonic() - without_workers_since > NO_WORKER_GRACE_S:
                        raise ClusterError(
                            f"The Dask cluster at {self.address} has had no worker for "
                            f"{NO_WORKER_GRACE_S:.0f} s ({len(blocks) - bar.n} of {len(blocks)} "
                            f"{desc} partitions left); the build stopped and the previous build "
                            "stays current."
                        )
        finally:
            client.cancel([*pending, *shared_futures])

    def _result(self, future):
        """A finished task's result; one sentence when it killed its workers again and again."""
        try:
            return future.result()
        except KilledWorker:
            raise ClusterError(
                f"A task on the Dask cluster at {self.address} was lost with its worker several "
                "times (out of memory?); the build stopped and the previous build stays current."
            ) from None


def blas_threads() -> int:
    """How many threads this process's BLAS (numpy's, scipy's) computes with."""
    pools = threadpool_info()
    return max([pool["num_threads"] for pool in pools if pool["user_api"] == "blas"] or [1])


def _with_blas_threads(threads: int, function: Callable, *args):
    """function(*args) with the BLAS on threads threads (a worker's task)."""
    with threadpool_limits(limits=threads, user_api="blas"):
        return function(*args)


def _finished(pending: dict[Future, int]) -> list[Future]:
    """The pending tasks that have finished (or failed), after waiting at most POLL_S for the
    oldest one when none has."""
    done = [future for future in pending if future.done()]
    if not done:
        # a timeout, or the task's error, which ClusterRunner._result raises
        with contextlib.suppress(Exception):
            next(iter(pending)).result(timeout=POLL_S)
        done = [future for future in pending if future.done()]
    return done


def scheduler_address(address: str) -> str:
    """address with tcp:// added when it names no protocol (host:port)."""
    return address if "://" in address else f"tcp://{address}"


@contextmanager
def connected(address: str, progress: bool = False) -> Iterator[ClusterRunner]:
    """A ClusterRunner on the scheduler at address, which must answer within CONNECT_TIMEOUT_S and
    have a worker within FIRST_WORKER_TIMEOUT_S (ClusterError otherwise); closed afterwards."""
    address = scheduler_address(address)
    try:  # a bare connection first: a Client that cannot connect is slow and loud to discard
        asyncio.run(_reach(address, CONNECT_TIMEOUT_S))
    except (OSError, ValueError) as error:
        raise ClusterError(
            f"Cannot reach the Dask scheduler at {address} ({error}); nothing was built."
        ) from None
    client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    try:
        try:
            client.wait_for_workers(1, timeout=FIRST_WORKER_TIMEOUT_S)
        except TimeoutError:
            raise ClusterError(
                f"The Dask scheduler at {address} has no worker (none joined within "
                f"{FIRST_WORKER_TIMEOUT_S:.0f} s); nothing was built."
            ) from None
        yield ClusterRunner(client, address, progress)
    finally:
        client.close()


async def _reach(address: str, timeout: float) -> None:
    """Open and close one connection to address."""
    comm = await connect(address, timeout=timeout)
    await comm.close()


# --------------------------------------------------------------------------- embedding


class EmbedderOnWorker(WorkerPlugin):
    """Loads the build's embedder once on each worker, when the plugin is set up there (also on a
    worker that joins or is restarted later), from make_embedder's plain keyword arguments."""

    idempotent = True  # a worker holding this embedder already keeps it

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.embedder: Embedder | None = None
        self.loads = 0

    @property
    def name(self) -> str:
        """One plugin per embedder setting."""
        return "hfmap-embedder-" + xxhash.xxh3_64_hexdigest(
            json.dumps(self.settings, sort_keys=True).encode()
        )

    def setup(self, worker) -> None:
        from pipeline.embed import make_embedder

        self.embedder = make_embedder(**self.settings)
        self.loads += 1


class EmbedderOnCluster(Embedder):
    """The build's embedder whose transform runs on the cluster (embed_on_cluster); everything else
    is the local embedder's, so the embedding cache keeps the vectors under the same state."""

    def __init__(self, local: Embedder, settings: dict, runner: ClusterRunner) -> None:
        self.local = local
        self.settings = settings
        self.runner = runner
        self.name = local.name
        self.dim = local.dim

    def fit(self, texts: Sequence[str]) -> EmbedderOnCluster:
        """Pretrained: nothing to learn."""
        return self

    def transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """The local embedder's vectors, computed by the workers."""
        return embed_on_cluster(self.runner, self.local, self.settings, texts)

    @property
    def state_id(self) -> str:
        return self.local.state_id

    def save(self, directory: str | Path) -> None:
        self.local.save(directory)

    @classmethod
    def load(cls, directory: str | Path) -> Embedder:
        """What save wrote: the local embedder."""
        from pipeline.embed import load_embedder

        return load_embedder(directory)


def embed_on_cluster(
    runner: ClusterRunner, embedder: Embedder, settings: dict, texts: Sequence[str]
) -> np.ndarray:
    """embedder.transform(texts), computed by the cluster's workers (each loads
    make_embedder(**settings) once); ClusterError when a worker's embedder differs from this one
    (another state_id: other weights or settings)."""
    if len(texts) == 0:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    plugin = EmbedderOnWorker(settings)
    runner.client.register_plugin(plugin, name=plugin.name)
    batches = encode_batches(embedder, texts)
    partitions, rows = [], []
    # whole batches, at most PARTITION_TEXTS texts, at least two partitions per worker
    per_partition = max(
        1,
        min(PARTITION_TEXTS // embedder.batch_size, -(-len(batches) // (2 * runner.workers()))),
    )
    for start in range(0, len(batches), per_partition):
        chosen = batches[start : start + per_partition]
        partitions.append(([[texts[row] for row in batch] for batch in chosen],))
        rows.append(np.concatenate(chosen))
    task = partial(_embed_partition, plugin=plugin.name, state_id=embedder.state_id)
    vectors = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for found, at in zip(runner.map(task, partitions, desc=f"{embedder.name} embed"), rows):
        vectors[at] = found
    return vectors


def encode_batches(embedder: Embedder, texts: Sequence[str]) -> list[np.ndarray]:
    """The rows of each batch that embedder.transform(texts) encodes together. In fp32 its vectors
    differ in their last bits with the company a text keeps in a batch (padding), and UMAP turns
    such differences into another map: sentence-transformers' encode sorts the texts by length
    (longest first; interleaved for a model that flattens its inputs) and cuts batch_size at a
    time, and the partitions follow the same cuts. int8 runs each text alone (its vector is the
    same in any company), so any cut would do; it is cut from a stable sort by length, which gives
    partitions of even work."""
    size = embedder.batch_size
    if getattr(embedder, "precision", "fp32") == "int8":  # MiniLMEmbedder._transform_int8
        order = np.argsort([-len(text) for text in texts], kind="stable")
    else:
        from sentence_transformers import SentenceTransformer

        order = np.argsort([-SentenceTransformer._input_length(text) for text in texts])
        if embedder.model._can_flatten_inputs():
            order = SentenceTransformer._interleave_sorted_indices(order)
    return [order[start : start + size] for start in range(0, len(order), size)]


def _embed_partition(batches: list[list[str]], plugin: str, state_id: str) -> np.ndarray:
    """A worker's task: the vectors of a partition's batches, one encoding per batch, in order."""
    embedder = get_worker().plugins[plugin].embedder
    if embedder.state_id != state_id:
        raise ClusterError(
            f"A Dask worker's {embedder.name} is not the build's (state {embedder.state_id}, not "
            f"{state_id}): give the workers the same weights and settings."
        )
    return np.concatenate([embedder.transform(batch) for batch in batches])
