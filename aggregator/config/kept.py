"""The validated feeds.yaml, kept between commands in the user's cache folder: parsing
it with ruamel's round-trip loader and checking it cost every command ~30 ms of its
start-up (issue 21), for a file that rarely changes. A kept configuration is used only
for the very same bytes, at the same path, checked by the same code and Python."""

from __future__ import annotations

import hashlib
import pickle
import sys
import time
from pathlib import Path

from aggregator.config.load import Config, config_from_bytes, load_config
from aggregator.i18n import keep_in_cache

PACKAGE = Path(__file__).parent
# A kept file unused for this long is removed when another is written (the feeds.yaml of
# a test, a moved project): one file per feeds.yaml, the cache does not grow without end.
FORGET_AFTER_SECONDS = 30 * 24 * 3600


def config_key(path: Path, data: bytes) -> str:
    """What names one check of feeds.yaml: its bytes, its path as given and resolved (a
    relative SQLite path is relative to it), the Python, and the size and time of each
    module of this package (the settings' table, defaults and parsers)."""
    code = sorted((module.name, module.stat().st_size, module.stat().st_mtime_ns)
                  for module in PACKAGE.glob("*.py"))
    digest = hashlib.sha256(data)
    digest.update(repr((str(path), str(path.resolve()), sys.version, code)).encode())
    return digest.hexdigest()


def load_kept_config(path: Path, folder: Path) -> Config:
    """`load_config(path)`, from `folder` when this very check was made before; else made
    (its errors raised as load_config raises them) and kept there, if it can be written."""
    try:
        data = path.read_bytes()
    except OSError:
        return load_config(path)  # which says why it cannot be read
    key = config_key(path, data)
    # One file per feeds.yaml: an edit replaces what was kept of it.
    kept = folder / f"{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]}.pickle"
    try:
        kept_key, config = pickle.loads(kept.read_bytes())
        if kept_key == key and isinstance(config, Config):
            kept.touch()  # still in use
            return config
    except (OSError, ValueError, TypeError, pickle.UnpicklingError, EOFError,
            AttributeError, ImportError):
        pass  # not kept yet, or by a version whose classes differ: checked again
    config = config_from_bytes(path, data)
    _keep(kept, (key, config))
    return config


def _keep(kept: Path, value: object) -> None:
    """Write `value` to `kept`, and forget the files long unused."""
    keep_in_cache(kept, pickle.dumps(value))
    now = time.time()
    try:
        for other in kept.parent.glob("*.pickle"):
            if now - other.stat().st_mtime > FORGET_AFTER_SECONDS:
                other.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home: nothing was kept, nothing to forget
