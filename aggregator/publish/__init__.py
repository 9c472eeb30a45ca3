"""Publishing: the digest pages, the merged feeds, translations, the web server."""
