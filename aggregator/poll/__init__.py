"""Polling: fetch, parse, clean, the parse workers, the poll loop and the daemon."""
