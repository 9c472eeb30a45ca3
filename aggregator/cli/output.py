"""The console every command prints to, the progress bar of fetch and feeds check, the
poll report that fetch and demo share, and how a table's cells are made to fit the
terminal."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click
import rich._wrap
from rich.cells import cell_len
from rich.console import Console

from aggregator.i18n import _, counted, seconds
from aggregator.models import UpdateOutcome
from aggregator.poll.summary import PollSummary, has_failed, summarize_outcomes

if TYPE_CHECKING:
    from rich.progress import Progress

# soft_wrap: long paths and URLs stay on one line, for people and for scripts reading them.
console = Console(highlight=False, soft_wrap=True)
# rich wraps a line at any Unicode space (`\s`), the no-break ones French typography puts in
# "0,01 s" and before ":" included: a table cell then began with "s" or ":". Its words are
# told to hold them (rich 15's pattern, a space class less those; tests/test_output.py).
NO_BREAK = "\u00a0\u2007\u202f"
rich._wrap.re_word = re.compile(rf"[^\S{NO_BREAK}]*(?:\S|[{NO_BREAK}])+[^\S{NO_BREAK}]*")


def progress_bar(label: str) -> Progress:
    """A bar on the console, gone once done, for a person watching a long command.

    While it runs, rich stands in for sys.stderr and prints what is written there above
    the bar (the log handler writes to sys.stderr as it is at each line): written past
    rich, a log line landed in the bar and the bar's redraws then went astray. Only when
    stderr is the terminal too: a redirected stderr keeps its log lines.
    """
    # rich.progress here, poll.save below: `status` prints with this module, and needs neither.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, redirect_stdout=False,
                    redirect_stderr=sys.stderr.isatty())


@contextmanager
def progress_reporter(label: str) -> Iterator[Callable[[int, int], None]]:
    """An `on_progress(done, total)` for long work: a bar on a terminal, else a plain line
    on stderr at each tenth of the way, none at its start (stdout keeps only the command's
    report)."""
    if not console.is_terminal:
        told = 0

        def tell(done: int, total: int) -> None:
            nonlocal told
            tenth = done * 10 // total if total else 0  # nothing to do: nothing to tell
            if tenth > told:
                told = tenth
                # French puts a space before the colon: the catalog has the whole line.
                click.echo(_("%(label)s: %(done)s/%(total)s")
                           % {"label": label, "done": done, "total": total}, err=True)

        yield tell
        return
    with progress_bar(label) as progress:
        task = progress.add_task(label, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def say(text: str, style: str | None = None) -> None:
    """A sentence for the reader: wrapped between words on a terminal (the terminal itself
    would cut a word in two at its edge), on one line for scripts reading a pipe."""
    console.print(text, style=style, markup=False, soft_wrap=not console.is_terminal)


def print_outcomes(outcomes: Sequence[UpdateOutcome], elapsed: float) -> None:
    """The feeds that failed or moved, then the batch's totals and its slowest feeds."""
    if not outcomes:
        say(_("No feed is due; use --force to poll them all now."))
        return
    from aggregator.poll.save import describe_outcome  # requests, through poll.steps
    for outcome in sorted(outcomes, key=lambda o: o.feed.casefold()):
        if has_failed(outcome):
            say(_("%(feed)s: %(outcome)s") % {
                "feed": outcome.feed, "outcome": describe_outcome(outcome)}, "red")
        elif outcome.moved_to:
            say(_("%(feed)s: moved permanently to %(url)s; update feeds.yaml")
                % {"feed": outcome.feed, "url": outcome.moved_to}, "yellow")
    total = summarize_outcomes(outcomes)
    say(describe_totals(total, elapsed))
    if total.common_failure:
        say(total.common_failure, "yellow")
    if total.polled > 1 and total.slowest:
        slowest = ", ".join(f"{o.feed} ({seconds(o.elapsed, 2)})" for o in total.slowest)
        say(_("Slowest: %(feeds)s") % {"feeds": slowest})


def describe_totals(total: PollSummary, elapsed: float) -> str:
    """A batch's totals in one sentence, each count with its noun in the right form: the
    new entries always, the other counts only when some feed had them (a row of zeros
    hides the one that matters)."""
    others = [
        (total.duplicates, counted("%(n)s already published elsewhere",
                                   "%(n)s already published elsewhere", total.duplicates)),
        (total.updated, counted("%(n)s updated", "%(n)s updated", total.updated)),
        (total.not_modified, counted("%(n)s not modified", "%(n)s not modified",
                                     total.not_modified)),
        (total.unchanged, counted("%(n)s unchanged", "%(n)s unchanged", total.unchanged)),
        (total.failed, counted("%(n)s failed", "%(n)s failed", total.failed)),
    ]
    counts = ", ".join([counted("%(n)s new entry", "%(n)s new entries", total.new)]
                       + [text for n, text in others if n])
    return _("%(polled)s in %(time)s: %(counts)s.") % {
        "polled": counted("%(n)s feed polled", "%(n)s feeds polled", total.polled),
        "time": seconds(elapsed, 1), "counts": counts}


def natural_width(header: str, cells: Iterable[str], cap: int | None = None) -> int:
    """The cells a table column takes to show its header and its values unwrapped, at most `cap`."""
    width = max((cell_len(cell) for cell in cells), default=0)
    width = max(width, cell_len(header))
    return width if cap is None else min(width, cap)


def width_left(total: int, widths: Sequence[int]) -> int:
    """The cells left for one more column of a boxed table whose other columns take `widths`:
    each column adds a cell of padding either side and a border."""
    return total - sum(widths) - 3 * len(widths) - 4


def shorten_url(url: str, width: int) -> str:
    """`url` whole if it fits `width` characters; else its site, an ellipsis and the last
    whole path segments that fit (https://www.exemple.fr/…/feed.xml); else its two ends."""
    host_end = url.find("/", url.find("://") + 3 if "://" in url else 0)
    return _shorten_middle(url, host_end + 1 if host_end > 0 else 0, width)


def shorten_path(path: str, width: int) -> str:
    """A file's `path` whole if it fits `width` characters; else its first folder, an
    ellipsis and the last folders that fit (/home/…/veille/feeds.yaml); else its two ends."""
    return _shorten_middle(path, path.find("/", 1) + 1, width)


def _shorten_middle(text: str, head_end: int, width: int) -> str:
    """`text` whole if it fits `width`; else `text[:head_end]`, an ellipsis and as many of
    the last "/"-separated segments of the rest as fit, one at least left out; else its
    two ends around an ellipsis, the last segment whole when it leaves half the room."""
    if len(text) <= width:
        return text
    if head_end > 0:
        head, segments = text[:head_end], text[head_end:].split("/")
        for start in range(1, len(segments)):  # the longest tail first
            shortened = head + "…/" + "/".join(segments[start:])
            if len(shortened) <= width:
                return shortened
    if width < 2:
        return "…"[:width]
    last = text[text.rfind("/"):]
    end = len(last) if len(last) <= width // 2 else (width - 1) // 2
    return text[:width - 1 - end] + "…" + (text[-end:] if end else "")


def title_with_path(make: Callable[[str], str], path: object, width: int | None) -> str:
    """A table's title that names a file: `make(path)`, the path shortened in its middle so
    that the title fits `width` columns (None: whole, for --wide)."""
    whole = make(str(path))
    if width is None or cell_len(whole) <= width:
        return whole
    return make(shorten_path(str(path), width - cell_len(make(""))))
