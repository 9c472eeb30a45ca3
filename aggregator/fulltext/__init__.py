"""Whole articles for teaser feeds: when to fetch the page, and its main text."""
