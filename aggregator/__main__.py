"""`python -m aggregator`, and the entry point of the `aggregator` command.

The command's script imports this module, not the CLI: multiprocessing runs that
script again in every parse worker (to find what it pickled by name), and the
workers need none of the CLI's imports (SQLAlchemy, Jinja2, requests, rich: 0.4 s
of CPU and 39 MB each).
"""


def main() -> None:
    """Run the CLI (aggregator.cli.main), imported only now."""
    try:
        from aggregator.cli import main as cli
    except KeyboardInterrupt:  # Ctrl-C while importing: before the CLI can answer it
        raise SystemExit(130) from None
    cli()


if __name__ == "__main__":
    main()
