"""Processes opening a new tracker history for writing at once (a dashboard's gunicorn workers
booting together, each recording its jobs' intervals) all succeed: switching the file to WAL is
retried while another connection holds it, instead of failing at once with "database is locked"
(seen in the containers: a worker failed to boot, and gunicorn stopped)."""

import multiprocessing

from tracker.history import History

TRIALS, WRITERS = 20, 6  # before the retry, 5 of 180 writers failed in 30 such trials


def write_intervals(path: str, start, job: str) -> None:
    start.wait()
    for _ in range(5):
        History(path).set_job_interval(job, 60.0)


def test_processes_opening_a_new_history_together_all_write(tmp_path):
    context = multiprocessing.get_context("fork")
    for trial in range(TRIALS):
        path = str(tmp_path / f"tracker-{trial}.sqlite")
        start = context.Event()
        jobs = [f"job{index}" for index in range(WRITERS)]
        writers = [context.Process(target=write_intervals, args=(path, start, job)) for job in jobs]
        for writer in writers:
            writer.start()
        start.set()
        for writer in writers:
            writer.join(60)
        assert [writer.exitcode for writer in writers] == [0] * WRITERS, f"trial {trial}"
        assert sorted(History(path).jobs()) == jobs
