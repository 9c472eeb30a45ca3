"""A feed aggregator for community managers: poll, de-duplicate, digest, publish."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/cm-aggregator/cm-aggregator"
USER_AGENT = f"cm-aggregator/{__version__} (+{PROJECT_URL})"
