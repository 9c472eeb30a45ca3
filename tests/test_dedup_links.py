"""Canonical links: tracking parameters, redirect wrappers and home pages."""

from __future__ import annotations

import pytest

from aggregator.dedup.links import canonical_link


@pytest.mark.parametrize(
    "parameter",
    ["utm_source", "utm_medium", "utm_campaign", "utm_content", "UTM_Term", "fbclid", "gclid",
     "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi",
     "mkt_tok", "xtor", "at_medium", "ns_source", "wt.mc_id", "WT.mc_id", "ref_src", "spm",
     "_ga", "oly_enc_id", "vero_id"],
)
def test_canonical_link_drops_each_tracking_parameter(parameter: str) -> None:
    link = f"https://blog.example/billet/?{parameter}=x&page=2"
    assert canonical_link(link) == "blog.example/billet?page=2"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://blog.example/billet/?utm_source=twitter&utm_medium=social",
         "blog.example/billet"),
        ("https://blog.example/?p=242&utm_source=x", "blog.example?p=242"),
        ("https://blog.example/a?s=cm&p=2", "blog.example/a?p=2&s=cm"),  # sorted, kept
        ("https://blog.example/a#comments", "blog.example/a"),
        ("https://blog.example/a/?xtor=RSS-3#more-131", "blog.example/a"),
        ("http://blog.example:80/a", "blog.example/a"),
        ("https://blog.example:443/a", "blog.example/a"),
        ("https://blog.example:8443/a", "blog.example:8443/a"),
        ("http://blog.example:443/a", "blog.example:443/a"),  # 443 is not http's port
        ("https://www.blog.example/a", "blog.example/a"),
        ("http://blog.example/a", "blog.example/a"),
        ("HTTPS://WWW.Blog.Example/A/B/", "blog.example/A/B"),  # the path keeps its case
        ("https://blog.example/a//", "blog.example/a"),
        ("  https://blog.example/a  ", "blog.example/a"),
    ],
)
def test_canonical_link(link: str, expected: str) -> None:
    assert canonical_link(link) == expected


@pytest.mark.parametrize(
    "wrapped",
    [
        "https://www.google.com/url?q=https://blog.example/a/?utm_source=x&sa=D&usg=AFQ",
        "https://www.google.com/url?rct=j&sa=t&url=https://blog.example/a/&ct=ga&usg=AFQ",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fblog.example%2Fa%3Ffbclid%3DIwAR1&h=AT0",
        "https://lm.facebook.com/l.php?u=https%3A%2F%2Fblog.example%2Fa",
        "https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fblog.example%2Fa&urlhash=x",
        "https://t.umblr.com/redirect?z=https%3A%2F%2Fblog.example%2Fa&t=x",
        "https://out.reddit.com/t3_abc?url=https%3A%2F%2Fblog.example%2Fa&token=x",
        "https://slack-redir.net/link?url=https%3A%2F%2Fblog.example%2Fa",
        "https://href.li/?https://blog.example/a",
        # a wrapper around a wrapper
        "https://www.google.com/url?q=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3D"
        "https%253A%252F%252Fblog.example%252Fa",
    ],
)
def test_canonical_link_unwraps_redirects(wrapped: str) -> None:
    assert canonical_link(wrapped) == "blog.example/a"


def test_a_wrapper_without_its_target_is_a_plain_link() -> None:
    assert canonical_link("https://www.google.com/url?sa=D") == "google.com/url?sa=D"


@pytest.mark.parametrize(
    "link",
    ["https://blog.example/", "https://blog.example", "https://www.blog.example/?utm_source=x#top",
     "https://www.google.com/url?q=https://blog.example/&sa=D",
     "mailto:laure@blog.example", "ftp://blog.example/a", "javascript:alert(1)",
     "/2013/01/billet/", "", None],
)
def test_canonical_link_of_a_home_page_or_no_web_page_is_none(link: str | None) -> None:
    assert canonical_link(link) is None


def test_a_home_page_with_a_real_query_is_a_page() -> None:
    assert canonical_link("https://blog.example/?p=3") == "blog.example?p=3"
