"""Whole articles from teaser feeds: which entries need their page, fetching it politely,
extracting its text, and which text an entry shows."""
