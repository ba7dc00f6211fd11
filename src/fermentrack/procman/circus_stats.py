"""The `circusd-stats` watcher: circus' own statistics streamer, sampling less often.

circusd's built-in circusd-stats (`statsd = True`) reads every process's CPU and memory every
second and polls the web socket every 10 ms; with 20 simulated chambers it took two thirds of
the whole stack's CPU (bench/stack.py). This runs the same streamer on the same endpoints, for
the same clients (circus-top, circushttpd), every STATS_EVERY_S.
"""

from __future__ import annotations

import argparse
import signal
import sys

from circus.stats import collector
from circus.stats.streamer import StatsStreamer

STATS_EVERY_S = 10.0  # each process's CPU and memory (circus' default: 1 s)
SOCKET_POLL_MS = 1000  # accepts waiting on the web socket (circus' default: 10 ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="circusd's command endpoint")
    parser.add_argument("--pubsub", required=True, help="circusd's event endpoint")
    parser.add_argument("--statspoint", required=True, help="where the statistics are published")
    parser.add_argument("--every", type=float, default=STATS_EVERY_S, metavar="S")
    args = parser.parse_args(argv)

    # Read by the socket collector when the streamer creates it; circus is pinned.
    collector._LOOP_RES = SOCKET_POLL_MS
    streamer = StatsStreamer(args.endpoint, args.pubsub, args.statspoint, delay=args.every)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(number, lambda *_: streamer.loop.add_callback_from_signal(streamer.stop))
    try:
        streamer.start()
    finally:
        if not streamer.stopped:
            streamer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
