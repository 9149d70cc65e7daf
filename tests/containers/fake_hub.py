"""The test Hub (tests/hub_server.py) as a process of its own, for the containers of
tests/containers/run_stack.sh: 2,500 generated models, listening on every interface of the host
on the given port, its next links naming the URL the containers reach it by.

    python tests/containers/fake_hub.py PORT URL
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub_server import TestHub, generated_models  # noqa: E402 (after the path above)


def main() -> int:
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        print("usage: python tests/containers/fake_hub.py PORT URL", file=sys.stderr)
        return 2
    port, url = int(sys.argv[1]), sys.argv[2]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with TestHub(generated_models(2_500), address=("0.0.0.0", port), url=url):
        print(f"test Hub listening on 0.0.0.0:{port}, reached as {url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
