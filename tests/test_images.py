"""The lead image of a card: the feed's picture, else the first real image of the text."""

from __future__ import annotations

import pytest

from aggregator.models import Enclosure
from aggregator.publish.images import LeadImage, lead_image

PHOTO = "https://blog.example/images/moderation.jpg"


def test_the_feeds_thumbnail_comes_first() -> None:
    content = '<p><img src="https://blog.example/inline.png" width="800" height="600"></p>'
    enclosure = Enclosure("https://cdn.example/cover.jpg", "image/jpeg")
    assert lead_image(PHOTO, [enclosure], content) == LeadImage(PHOTO)


def test_an_image_enclosure_when_there_is_no_thumbnail() -> None:
    episode = Enclosure("https://cdn.example/episode.mp3", "audio/mpeg")
    cover = Enclosure("https://cdn.example/cover.jpg", "image/jpeg")
    assert lead_image(None, [episode, cover], "") == LeadImage("https://cdn.example/cover.jpg")
    assert lead_image(None, [episode], "<p>Texte</p>") is None


def test_the_first_real_image_of_the_content_with_its_size() -> None:
    content = (
        '<p>Intro <img src="https://stats.wordpress.com/b.gif?host=x" width="1" height="1">'
        '<img src="https://pixel.example/spacer.gif" width="2" height="40">'
        '<img src="http://blog.example/a.png" width="640px" height="360"></p>'
        '<img src="https://blog.example/b.png" width="10" height="10">')
    assert lead_image(None, (), content) == LeadImage("http://blog.example/a.png", 640, 360)


@pytest.mark.parametrize("content", [
    '<img src="https://blog.example/a.png" width="100%" height="300">',
    '<img src="https://blog.example/a.png" width="640">',
    '<img src="https://blog.example/a.png">',
])
def test_a_size_reserves_its_box_only_when_both_are_known_in_px(content: str) -> None:
    assert lead_image(None, (), content) == LeadImage("https://blog.example/a.png")


@pytest.mark.parametrize("url", [
    "https://feeds.feedburner.com/~r/blog/~4/abc",
    "https://blog.example/~r/blog/~4/abc",
    "https://stats.wordpress.com/b.gif",
    "https://www.google-analytics.com/collect?v=1",
    "https://ad.doubleclick.net/ddm/ad.gif",
    "https://sub.doubleclick.net/x.png",
    "https://blog.example/pixel.gif",
    "https://blog.example/track/open/123",
    "https://mail.example/tracking/abc.png",
    "javascript:alert(1)",
    "data:image/png;base64,AAAA",
    "ftp://blog.example/a.png",
    "/relative/a.png",
])
def test_never_a_tracker_nor_an_address_that_is_not_http(url: str) -> None:
    content = f'<img src="{url}" width="600" height="400">'
    assert lead_image(url, [Enclosure(url, "image/png")], content) is None


def test_a_picture_whose_name_only_looks_like_a_tracker_is_kept() -> None:
    url = "https://blog.example/pixel-art/tracking-shot.jpg"
    assert lead_image(None, (), f'<img src="{url}">') == LeadImage(url)


def test_a_tracker_thumbnail_falls_back_to_the_content() -> None:
    content = '<img src="https://blog.example/real.jpg" width="1200" height="630">'
    assert lead_image("https://feeds.feedburner.com/~r/x/~4/y", (), content) == LeadImage(
        "https://blog.example/real.jpg", 1200, 630)


def test_entities_in_the_address_are_read() -> None:
    content = '<img src="https://blog.example/a.png?w=600&amp;h=400">'
    assert lead_image(None, (), content) == LeadImage("https://blog.example/a.png?w=600&h=400")
