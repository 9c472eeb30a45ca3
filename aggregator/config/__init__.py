"""feeds.yaml: the settings, loading and validating it, editing it, OPML."""
