"""Whole articles for teaser feeds: when to fetch the page, fetching it politely, its main
text, and which text an entry shows."""
