"""The model-count tracker: snapshots of how many models the Hub holds, kept as a history.

hub        list every public model over huggingface_hub's HTTP client, within bounds, and count them
hf_home    the tracker process's own huggingface_hub home, beside its history
history    the SQLite snapshot history (append-only) and the scheduler's state
lock       one snapshot at a time: a Redis lock with expiry (a file lock without Redis)
snapshot   one run: lock, list, count, refuse a collapse, record success or failure
schedule   `hfmap track --every`: APScheduler runs a snapshot on an interval
growth     growth statistics from the history
"""
