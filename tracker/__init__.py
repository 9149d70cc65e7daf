"""The model-count tracker: snapshots of how many models the Hub holds, kept as a history.

A package of its own beside the offline pipeline (`hfmap track`, or the dashboard server's
scheduled jobs, each run in a process of its own): it loads none of the pipeline's code. From
pipeline/ it takes only the settings (pipeline.config.Settings, the one configuration object
every part of hfmap reads) and the version its requests name.

Its published API, the only modules the dashboard imports:
history    the SQLite snapshot and refresh history (append-only) and the schedulers' state
report     what the tracker tells of itself: `track --status`, the dashboard's growth report,
           the scheduled jobs' state
jobs       the server's scheduled jobs (the snapshot, the refresh of the map): start_jobs

Inside the tracker:
hub        list every public model over huggingface_hub's HTTP client, within bounds, and count them
hf_home    the tracker process's own huggingface_hub home, beside its history
lock       one run of a job at a time: a Redis lock with expiry (a file lock without Redis),
           and which process holds it, in the history
snapshot   one run: lock, list, count, refuse a collapse, record success or failure
schedule   `hfmap track --every`: APScheduler runs a snapshot on an interval
due        intervals, and when a scheduled job is due (once per interval across processes)
growth     growth statistics from the history (the growth report's)
"""
