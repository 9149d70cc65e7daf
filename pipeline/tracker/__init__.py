"""The model-count tracker: snapshots of how many models the Hub holds, kept as a history.

hub        list every public model through huggingface_hub and count them
history    the SQLite snapshot history (append-only) and the scheduler's state
lock       one snapshot at a time: a Redis lock with expiry (a file lock without Redis)
snapshot   one run: lock, list, count, record success or failure
schedule   `hfmap track --every`: APScheduler runs a snapshot on an interval
growth     growth statistics from the history
"""
