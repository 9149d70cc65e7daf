"""The `hfmap` command line: build, serve, track, refresh, sample, info, similar.

It sits above the three parts of hfmap and dispatches to them: the offline pipeline (build,
sample, info, similar), the dashboard (serve) and the tracker (track); `refresh` joins the
pipeline and the tracker (hfmap/refresh.py). Each is imported only by the command that runs it,
and nothing in pipeline/ imports the dashboard or this module.

Every mistake a user can make (missing source, unreadable file, unknown
embedder, no build yet) is a UserError (pipeline.errors) and ends in one
sentence on stderr and exit code 2. Anything else is a bug in hfmap: one
sentence that says so and names the file holding the full traceback, exit code 1.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.text import Text

from pipeline.config import Settings
from pipeline.errors import UserError
from pipeline.terminal import literal, printable

USER_ERROR = 2
INTERNAL_ERROR = 1


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hfmap", description="A map of the Hugging Face model ecosystem."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser(
        "build", help="build a map from a source into a new build directory"
    )
    build.add_argument(
        "--source",
        default="sample",
        help="'sample' (bundled real sample, default), hf:<dataset id>, "
        "or a .parquet/.csv/.jsonl file",
    )
    build.add_argument(
        "--out",
        type=Path,
        default=settings.build_dir,
        help=f"builds directory (default {settings.build_dir})",
    )
    build.add_argument(
        "--embedder",
        default="auto",
        choices=["auto", "minilm", "tfidf"],
        help=f"auto = minilm up to {settings.minilm_max_rows:,} models, else tfidf",
    )
    build.add_argument(
        "--model-path",
        default=settings.minilm_path,
        help="local sentence-transformers model directory for minilm",
    )
    build.add_argument(
        "--precision",
        default=settings.minilm_precision,
        choices=["auto", "int8", "fp32"],
        help="minilm: int8 (OpenVINO, CPU; exported once into the cache) or fp32; "
        f"auto = int8 on CPU, fp32 on a GPU (default {settings.minilm_precision})",
    )
    build.add_argument(
        "--device",
        default=settings.minilm_device,
        choices=["auto", "cpu", "cuda"],
        help=f"where minilm runs; auto = cuda if there is a GPU (default {settings.minilm_device})",
    )
    build.add_argument("--dim", type=int, default=64, help="tfidf vector dimensions (default 64)")
    build.add_argument(
        "--seed", type=int, default=0, help="random seed: same input + seed gives the same map"
    )
    build.add_argument(
        "--clusters",
        type=int,
        default=None,
        help="number of clusters (default: chosen automatically)",
    )
    build.add_argument(
        "--fit-sample",
        type=int,
        default=50_000,
        help="UMAP fits on this many models and places the rest",
    )
    build.add_argument(
        "--cache-dir",
        type=Path,
        default=settings.cache_dir,
        help=f"embedding cache (default {settings.cache_dir})",
    )
    build.add_argument(
        "--refit",
        action="store_true",
        help="refit the tfidf embedder instead of reusing the cached one",
    )
    build.add_argument(
        "--full",
        action="store_true",
        help="refit the whole map even if the current build could be carried forward",
    )
    build.add_argument(
        "--cluster",
        default=settings.dask_scheduler,
        metavar="ADDRESS",
        help="a Dask scheduler (tcp://HOST:8786): MiniLM's embedding, the placement of the map's "
        "other models and exact neighbour searches run on its workers",
    )
    build.add_argument("--quiet", action="store_true", help="no progress output")
    build.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the builds directory already has a current build "
        "(the compose pipeline job)",
    )

    sample = commands.add_parser(
        "sample", help="regenerate the bundled sample from family-tree exports"
    )
    sample.add_argument(
        "--exports",
        type=Path,
        required=True,
        help="directory of *_tree.csv exports (../shared/data)",
    )
    sample.add_argument("--out", type=Path, default=None, help="default: the bundled sample file")

    info = commands.add_parser("info", help="summarize a build")
    info.add_argument(
        "--build",
        type=Path,
        default=settings.build_dir,
        help="a build, or a builds directory (its current build)",
    )

    similar = commands.add_parser(
        "similar", help="models most similar to a model id or a free-text query"
    )
    similar.add_argument("query", help="a model id in the build, or free text with --text")
    similar.add_argument("--text", action="store_true", help="treat QUERY as free text")
    similar.add_argument("-k", type=int, default=10)
    similar.add_argument("--build", type=Path, default=settings.build_dir)

    serve = commands.add_parser("serve", help="serve the dashboard over a build")
    serve.add_argument(
        "--build",
        type=Path,
        default=settings.build_dir,
        help="a build, or a builds directory (its current build is served)",
    )
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 for every one)"
    )

    track = commands.add_parser(
        "track", help="count the Hub's models: one snapshot, one every INTERVAL, or the last result"
    )
    mode = track.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="take one snapshot now")
    mode.add_argument(
        "--every",
        nargs="?",
        const=settings.tracker_every,
        metavar="INTERVAL",
        help="take a snapshot now and every INTERVAL (6h, 30m, 1d, 1h30m; "
        f"default {settings.tracker_every}) until stopped",
    )
    mode.add_argument(
        "--status", action="store_true", help="print the last snapshot and the last failure as JSON"
    )
    track.add_argument(
        "--db",
        type=Path,
        default=settings.tracker_db,
        help=f"snapshot history (default {settings.tracker_db})",
    )
    track.add_argument(
        "--jsonl",
        type=Path,
        help="also write the listing as Hub API JSON Lines, for `hfmap build --source`",
    )
    track.add_argument(
        "--if-due",
        metavar="INTERVAL",
        help="with --once: only if the last run began INTERVAL ago or more "
        "(how the dashboard's scheduled job runs it)",
    )

    refresh = commands.add_parser(
        "refresh",
        help="rebuild the map from the tracker's listing "
        "(incremental when it can be) and record it",
    )
    refresh.add_argument(
        "--listing",
        type=Path,
        default=settings.listing_path,
        help=f"the tracker's listing (default {settings.listing_path})",
    )
    refresh.add_argument(
        "--out",
        type=Path,
        default=settings.build_dir,
        help=f"builds directory (default {settings.build_dir})",
    )
    refresh.add_argument(
        "--embedder",
        default=settings.refresh_embedder,
        choices=["auto", "minilm", "tfidf"],
        help=f"the build's embedder (default {settings.refresh_embedder})",
    )
    refresh.add_argument(
        "--db",
        type=Path,
        default=settings.tracker_db,
        help=f"the history the refresh is recorded in (default {settings.tracker_db})",
    )
    refresh.add_argument(
        "--if-due", metavar="INTERVAL", help="only if the last refresh began INTERVAL ago or more"
    )
    return parser


# exit codes of `hfmap track --once` and `hfmap refresh` besides 0 and USER_ERROR
SNAPSHOT_FAILED = 1
SNAPSHOT_SKIPPED = 3  # another process holds the job's lock
PARENT_VARIABLE = "HFMAP_PARENT_PID"  # set by the dashboard's scheduled jobs (tracker/jobs.py)


def _if_due(text: str | None) -> float | None:
    from tracker.due import parse_interval

    if text is None:
        return None
    try:
        return parse_interval(text)
    except ValueError as error:
        raise UserError(f"--if-due: {error}") from None


def _follow_parent() -> None:
    """A scheduled job's process (HFMAP_PARENT_PID set) ends itself, as on SIGTERM, once the server
    process that started it is gone, so a job never outlives its server by more than a second."""
    import signal
    import threading
    import time

    parent = os.environ.pop(PARENT_VARIABLE, "")
    if not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="hfmap-follow-parent", daemon=True).start()


def _exit_on_sigterm() -> None:
    """SIGTERM ends the command like an exception, so its locks and temporary files are released;
    a second SIGTERM is ignored, so it cannot interrupt that release."""
    import signal

    def exit_once(*_) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, exit_once)


def _track(args, settings: Settings, console: Console) -> int:
    import dataclasses
    import json
    import logging

    from tracker.hf_home import use_tracker_hf_home

    use_tracker_hf_home(args.db)  # before huggingface_hub is imported: never ~/.cache/huggingface
    from tracker.history import History
    from tracker.report import status_report
    from tracker.schedule import parse_interval, run_every
    from tracker.snapshot import take_snapshot

    settings = dataclasses.replace(settings, tracker_db=args.db)
    if args.if_due is not None and not args.once:
        raise UserError("--if-due goes with --once.")
    if args.status:
        print(json.dumps(status_report(History(args.db)), indent=2))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # not a line per page
    if args.every:
        if args.every.strip().lower() == "off":
            raise UserError("--every needs an interval (HFMAP_TRACKER_EVERY is off).")
        try:
            interval = parse_interval(args.every)
        except ValueError as error:
            raise UserError(f"--every: {error}") from None
        run_every(settings, interval, args.jsonl)
        return 0
    if_due = _if_due(args.if_due)
    _exit_on_sigterm()
    outcome = take_snapshot(settings, args.jsonl, progress=console.is_terminal, if_due=if_due)
    if outcome.status == "not due":
        print(
            f"hfmap: no snapshot taken: the last run began less than {args.if_due} ago.",
            file=sys.stderr,
        )
        return 0
    if outcome.status == "ok":
        console.print(
            literal(
                f"snapshot {outcome.snapshot_id}: {outcome.total_models:,} models "
                f"on {settings.hf_endpoint} "
                f"({outcome.seconds:.1f} s), in {args.db}"
            )
        )
        return 0
    if outcome.status == "skipped":
        print("hfmap: no snapshot taken: another tracker is taking one.", file=sys.stderr)
        return SNAPSHOT_SKIPPED
    print(
        f"hfmap: the snapshot failed and no count was stored: {printable(outcome.error)}",
        file=sys.stderr,
    )
    return SNAPSHOT_FAILED


def _refresh(args, settings: Settings, console: Console) -> int:
    import dataclasses
    import logging

    from hfmap.refresh import run_refresh

    settings = dataclasses.replace(settings, tracker_db=args.db)
    if_due = _if_due(args.if_due)
    _check_out_dir(args.out)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _exit_on_sigterm()
    outcome = run_refresh(settings, args.listing, args.out, args.embedder, if_due)
    if outcome.status == "ok":
        console.print(
            literal(
                f"build {outcome.build_id} ({outcome.mode}) is current: "
                f"{outcome.models:,} models, {outcome.added:,} added, "
                f"{outcome.removed:,} removed ({outcome.seconds:.1f} s)"
            )
        )
        return 0
    if outcome.status == "unchanged":
        console.print(
            literal(
                f"the listing has not changed since build {outcome.build_id}; nothing to build."
            )
        )
        return 0
    if outcome.status == "not due":
        print(
            f"hfmap: no refresh: the last one began less than {args.if_due} ago.", file=sys.stderr
        )
        return 0
    if outcome.status == "skipped":
        print(f"hfmap: no refresh: {outcome.error}.", file=sys.stderr)
        return SNAPSHOT_SKIPPED
    print(
        f"hfmap: the refresh failed and the current build stays: {printable(outcome.error)}",
        file=sys.stderr,
    )
    return SNAPSHOT_FAILED


def _serve(args, settings: Settings, console: Console) -> None:
    import logging
    import signal

    from dashboard.app import create_app
    from tracker.jobs import job_plan

    if not 0 < args.port < 65536:
        raise UserError("--port must be between 1 and 65535.")
    try:
        job_plan(settings, args.build)  # the scheduled jobs' settings, checked before any start
    except ValueError as error:
        raise UserError(str(error)) from None
    # SIGTERM (docker stop, kill) stops the server as Ctrl+C does: the server's loop ends on the
    # KeyboardInterrupt (before it starts: main's "interrupted")
    signal.signal(signal.SIGTERM, _interrupt)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(args.build, settings, scheduled_jobs=True)
    console.print(literal(f"hfmap dashboard on http://{args.host}:{args.port}/ (Ctrl+C stops it)"))
    try:
        app.run(host=args.host, port=args.port, debug=False)  # returns on Ctrl+C or SIGTERM
    except OSError as error:
        # address in use / not available, permission denied
        if error.errno in (98, 48, 10048, 99, 49, 13):
            raise UserError(
                f"Cannot listen on {args.host}:{args.port} ({error.strerror})."
            ) from None
        raise
    console.print("hfmap dashboard stopped")
    _exit_now(0)


def _interrupt(*_) -> None:
    """A signal handler that interrupts the main thread as Ctrl+C does."""
    raise KeyboardInterrupt


def _exit_now(code: int) -> NoReturn:
    """End the process once its exit handlers have run (the scheduled jobs and the embedded Redis
    stop) and its output is flushed, without the interpreter's finalization: tearing down a
    served dashboard's modules and objects took 1.3-3.3 s after a SIGTERM, the handlers 0.05 s."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _check_out_dir(out: Path) -> None:
    """UserError unless out is (or can become) a writable builds directory."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {printable(out)} is a file, not a builds directory.")
    existing = next((p for p in [out, *out.absolute().parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UserError(
            f"--out {printable(out)} cannot be created: {printable(existing)} is a file."
        )
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--out {printable(out)} is not writable.")


def _build(args, settings: Settings, console: Console) -> None:
    if args.quiet:  # transformers' and huggingface_hub's bars ("Loading weights"): read at import
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    from pipeline.build import BuildOptions, run_build
    from pipeline.build_format import POINTER
    from pipeline.embed import require_sentence_transformers_dir
    from pipeline.summary import print_renderables, summary_renderables

    if args.dim < 2:
        raise UserError("--dim must be at least 2.")
    if args.fit_sample < 100:
        raise UserError("--fit-sample must be at least 100.")
    if args.clusters is not None and args.clusters < 1:
        raise UserError("--clusters must be at least 1.")
    _check_out_dir(args.out)
    if args.model_path and args.embedder in ("auto", "minilm"):
        require_sentence_transformers_dir(args.model_path)  # EmbedderError, a UserError
    if args.if_missing and (args.out / POINTER).is_file():
        current = (args.out / POINTER).read_text().strip()
        console.print(
            literal(
                f"{args.out} already has a current build ({current}); nothing to do (--if-missing)."
            )
        )
        return
    options = BuildOptions(
        source=args.source,
        out_dir=args.out,
        embedder=args.embedder,
        model_path=args.model_path,
        minilm_max_rows=settings.minilm_max_rows,
        dim=args.dim,
        seed=args.seed,
        n_clusters=args.clusters,
        fit_sample_size=args.fit_sample,
        cache_dir=args.cache_dir,
        refit=args.refit,
        full=args.full,
        keep_builds=settings.keep_builds,
        progress=not args.quiet,
        cluster=args.cluster or None,
        precision=args.precision,
        device=args.device,
    )
    summary: list = []  # read from the finished build before it becomes current, printed after

    def render_summary(path: Path) -> None:
        summary.extend(summary_renderables(path))

    run_build(options, console=Console(stderr=True, quiet=args.quiet), before_switch=render_summary)
    print_renderables(summary, console)


def _sample(args, console: Console) -> None:
    from pipeline.report import IssueLog
    from pipeline.sources import SAMPLE_PATH
    from pipeline.sources.family_exports import write_sample

    exports = sorted(args.exports.glob("*_tree.csv")) if args.exports.is_dir() else []
    if not exports:
        raise UserError(f"{args.exports} holds no *_tree.csv family-tree exports.")
    log = IssueLog()
    out = args.out or SAMPLE_PATH
    rows = write_sample(exports, out, log)
    console.print(literal(f"wrote {rows:,} models from {len(exports)} exports to {out}"))
    for line in log.summary_lines():
        console.print(literal(f"  {line}"), soft_wrap=True)


def _similar(args, console: Console) -> None:
    from pipeline.build_format import WEAK_MATCH
    from pipeline.similar import similar_models

    result = similar_models(args.build, args.query, k=args.k, free_text=args.text)
    for row in result.itertuples():
        console.print(Text(f"{row.similarity:5.2f}  ") + literal(row.model_id))
    if args.text and (result.empty or result["similarity"].iloc[0] < WEAK_MATCH):
        console.print(
            literal(f"The best match is weak (below {WEAK_MATCH}): few models carry these words."),
            soft_wrap=True,
        )


def _report_bug(error: BaseException) -> int:
    """One sentence on stderr naming the bug and the file with its full traceback; exit code 1."""
    text = "".join(traceback.format_exception(error))
    try:
        with tempfile.NamedTemporaryFile(
            "w",
            prefix="hfmap-traceback-",
            suffix=".txt",
            delete=False,
            encoding="utf-8",
            errors="backslashreplace",
        ) as handle:
            handle.write(text)
        where = f"the full traceback is in {handle.name}"
    except OSError:
        print(text, file=sys.stderr)
        where = "the full traceback is above"
    message = printable(str(error))
    message = message if len(message) <= 200 else message[:200] + "…"
    print(
        f"hfmap: internal error ({type(error).__name__}: {message}); {where}; please report it.",
        file=sys.stderr,
    )
    return INTERNAL_ERROR


def main(argv: list[str] | None = None) -> int:
    console = Console()
    try:
        settings = Settings.from_env()
    except UserError as error:  # a setting in the environment that does not parse
        print(f"hfmap: {printable(error)}", file=sys.stderr)
        return USER_ERROR
    args = _parser(settings).parse_args(argv)
    try:
        if args.command == "build":
            _build(args, settings, console)
        elif args.command == "sample":
            _sample(args, console)
        elif args.command == "info":
            from pipeline.summary import print_summary

            print_summary(args.build, console)
        elif args.command == "similar":
            _similar(args, console)
        elif args.command == "serve":
            _serve(args, settings, console)
        elif args.command == "track":
            _follow_parent()
            return _track(args, settings, console)
        elif args.command == "refresh":
            _follow_parent()
            return _refresh(args, settings, console)
    except UserError as error:
        print(f"hfmap: {printable(error)}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        untouched = "; the previous build is untouched" if args.command == "build" else ""
        print(f"hfmap: interrupted{untouched}.", file=sys.stderr)
        return 130
    except Exception as error:  # anything else is a bug in hfmap, never a user's mistake
        return _report_bug(error)
    return 0
