"""The process's memory: glibc's allocator, told to share one heap and give memory back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aggregator.poll import memory

_HEAPS = """
import ctypes, sys, threading
from aggregator.poll.memory import hold_less_memory
if sys.argv[1] == "held":
    hold_less_memory()
together = threading.Barrier(8)
def work():
    together.wait()
    kept = [bytes(2000) for _ in range(100)]  # over 512 bytes: malloc's, not Python's
    together.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.open_memstream.restype = ctypes.c_void_p
text, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(text), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(ctypes.string_at(text, size.value).decode().count("<heap nr="))
"""


@pytest.mark.skipif(memory._LIBC is None, reason="glibc's allocator only")
def test_threads_share_one_heap_once_memory_is_held() -> None:
    # Eight threads at once get eight heaps from glibc, each keeping free memory of
    # its own; the daemon starts new fetch threads on every poll.
    def heaps(mode: str) -> int:
        run = subprocess.run([sys.executable, "-c", _HEAPS, mode], capture_output=True,
                             text=True, timeout=60, check=True)
        return int(run.stdout)

    assert heaps("default") > 1
    assert heaps("held") == 1
