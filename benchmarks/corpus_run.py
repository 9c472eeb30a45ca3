"""Poll the FULL feed corpus over loopback into SQLite, render the site, print a summary.

    .venv/bin/python benchmarks/corpus_run.py [--corpus ../shared/corpus] [--workdir DIR]

Same flow and serving rules as tests/test_corpus.py (whose helpers it reuses), on every
document of the shared corpus instead of the committed subset.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tests`, which is not an installed package

from aggregator.config.load import load_config  # noqa: E402
from aggregator.poll.fetch import make_session  # noqa: E402
from aggregator.poll.run import update_feeds  # noqa: E402
from aggregator.publish.render import render_site  # noqa: E402
from aggregator.store import Store  # noqa: E402
from tests.conftest import FeedServer, write_config  # noqa: E402
from tests.test_corpus import (  # noqa: E402
    NOW,
    CorpusRun,
    corpus_files,
    output_problems,
    serve_corpus,
)


class WorkerMemory:
    """Samples the summed RSS of this process's descendants (parse workers) from /proc.

    getrusage(RUSAGE_CHILDREN) cannot see them: a forkserver's workers are not our
    children, and they are still alive when the poll ends.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.peak = 0  # bytes
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, sum(_rss(pid) for pid in _descendants(os.getpid())))


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # the command name may hold spaces: the ppid is the 2nd field after ")"
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, pending = [], [root]
    while pending:
        children = parents.get(pending.pop(), [])
        found += children
        pending += children
    return found


def _rss(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus",
                        help="corpus root (default: ../shared/corpus next to the repository)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where feeds.yaml, corpus.db and public/ go (default: a new "
                             "temporary folder)")
    parser.add_argument("--feed-entries", type=int, default=500,
                        help="entries in the merged feeds (default 500)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="parallel downloads (default: the settings default)")
    parser.add_argument("--verbose", action="store_true", help="show the aggregator's log")
    return parser.parse_args()


def main() -> int:
    """Run the flow once; exit 1 when something escaped or an output is invalid."""
    args = parse_args()
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="corpus-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "corpus.db").unlink(missing_ok=True)
    files = corpus_files(args.corpus)
    settings = {"database": str(workdir / "corpus.db"), "feed_entries": args.feed_entries}
    if args.concurrency:
        settings["concurrency"] = args.concurrency

    server = FeedServer()
    try:
        config = load_config(write_config(workdir, serve_corpus(server, args.corpus, files),
                                          **settings))
        store = Store.open(config.settings.database)
        started = time.perf_counter()
        with WorkerMemory() as watcher:
            outcomes = update_feeds(store, make_session(), config, NOW)
        poll_time = time.perf_counter() - started
        started = time.perf_counter()
        report = render_site(store, config.settings, config.feeds, NOW)
        render_time = time.perf_counter() - started
        run = CorpusRun(config, outcomes, store.feed_states(), report)
        store.close()
    finally:
        server.close()
    return print_summary(args.corpus, workdir, files, run, poll_time, render_time,
                         watcher.peak)


def print_summary(corpus: Path, workdir: Path, files: list[str], run: CorpusRun,
                  poll_time: float, render_time: float, workers_peak: int) -> int:
    """Print what the run did; the return value is the exit status."""
    by_part = Counter(name.split("/", 1)[0] for name in files)
    print(f"corpus: {corpus}  workdir: {workdir}")
    print(f"files served: {len(files)} ("
          + ", ".join(f"{part} {n}" for part, n in sorted(by_part.items())) + ")")
    kinds = Counter(o.outcome for o in run.outcomes)
    print("outcomes: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    errors = run.errors
    print(f"errors by message prefix ({len(errors)}):")
    for prefix, n in Counter(" ".join(e.split()[:3]) for e in errors.values()).most_common():
        print(f"  {n:5d}  {prefix}")
    polled = {o.feed for o in run.outcomes}
    missing = sorted(set(files) - polled)
    unstored = sorted(name for name, message in errors.items() if not message)
    internal = sorted(name for name, message in errors.items()
                      if message.startswith("internal error"))
    entries = sum(s.entry_count for s in run.states.values())
    print(f"entries stored: {entries}; in the merged feeds: {run.report.entries_in_feed}; "
          f"day pages: {run.report.days}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"poll: {poll_time:.1f} s   render: {render_time:.1f} s   peak RSS: {own:.0f} MB "
          f"(this process; its worker processes together: {workers_peak / 2**20:.0f} MB)")
    problems = output_problems(run.config.settings.output_dir)
    atom_ok = not any(p.startswith("atom.xml is not valid") for p in problems)
    print(f"atom.xml valid (RFC 4287 RNG): {'yes' if atom_ok else 'NO'}")
    for line in problems[:20]:
        print(f"  problem: {line[:300]}")
    for label, names in (("no outcome", missing), ("error not stored", unstored),
                         ("internal error (caught crash)", internal)):
        if names:
            print(f"{label}: {len(names)}: " + ", ".join(names[:10]))
    return 1 if problems or missing or unstored else 0


if __name__ == "__main__":
    sys.exit(main())
