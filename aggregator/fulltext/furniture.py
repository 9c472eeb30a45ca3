"""What blog pages put around an article, taken out of the page before extraction; and
what the extractor would drop inside it, made plain for it to keep: Blogger's text without
paragraphs, figures' captions.

The extractor knows the usual containers (navigation, comments, sidebars) by their class
names, in English. These are the plugins and phrases it misses on French blogs: widgets
written inside the post's own text ("Rendez-vous sur Hellocoton !"), and the headings
of share and related-posts blocks.
"""

from __future__ import annotations

import re
from typing import Any

# Containers of plugins, by the class or id their markup always has.
_PLUGIN_MARKS = (
    "hellocoton", "linkwithin", "sharedaddy", "jp-relatedposts", "yarpp", "crp_related",
    "addtoany", "post-share-buttons", "cookie-notice", "cookie-law", "comment-respond",
    "wpcnt", "sd-sharing", "jp-post-flair", "essb_links", "shariff",
)
_PLUGINS = " | ".join(
    f"//*[contains(@class, '{mark}') or contains(@id, '{mark}')]" for mark in _PLUGIN_MARKS)
_WIDGET_LINKS = "//a[contains(@href, 'hellocoton.fr') or contains(@href, 'linkwithin.com')]"

# Whole lines that are never the author's: an element whose text is one of them goes.
PHRASES = frozenset({
    "rendez-vous sur hellocoton !", "related posts with thumbnails", "articles similaires",
    "articles liés", "sur le même thème", "vous aimerez aussi", "à lire aussi",
    "partager :", "partager cet article", "partager sur facebook", "partager sur twitter",
    "j'aime ça :", "j’aime ça :", "j'aime :", "like this:", "share this:", "laisser un commentaire",
    "publier un commentaire", "lire la suite", "continue reading", "read more",
})
_FOLD = re.compile(r"\s+")
_BLOCKS = frozenset({"div", "p", "ul", "ol", "table", "blockquote", "figure", "h1", "h2", "h3",
                     "h4", "h5", "h6", "pre", "section", "article", "aside", "dl", "form", "hr"})


def remove_furniture(tree: Any) -> None:
    """Drop plugin containers, widget links and elements that hold only a stock phrase."""
    for element in tree.xpath(_PLUGINS + " | " + _WIDGET_LINKS):
        if element.getparent() is not None:
            element.drop_tree()
    for text in tree.xpath("//body//text()[string-length() < 60]"):
        if _FOLD.sub(" ", text.strip()).lower() not in PHRASES:
            continue
        owner = text.getparent()
        if text.is_tail:
            owner.tail = None
        elif (outermost := _outermost_holding(owner, str(text))).getparent() is not None:
            outermost.drop_tree()


def _outermost_holding(element: Any, phrase: str) -> Any:
    # <h3><em>Articles similaires</em></h3>: the heading goes, not only its <em>.
    folded = _FOLD.sub(" ", phrase.strip())
    while (parent := element.getparent()) is not None and parent.tag != "body":
        if _FOLD.sub(" ", parent.text_content().strip()) != folded:
            break
        element = parent
    return element


def wrap_loose_text(tree: Any) -> None:
    """Put the loose text of a <div> written with <br /> (Blogger's posts) in paragraphs,
    one per blank line: the extractor drops text that follows a <div> inside another."""
    for parent in tree.xpath("//div[br][text()[normalize-space()]]"):
        _wrap_runs(parent)


def _wrap_runs(parent: Any) -> None:
    children, out = list(parent), []
    paragraph = parent.makeelement("p")
    paragraph.text, parent.text = parent.text, None
    for child in children:
        parent.remove(child)
        last = paragraph[-1] if len(paragraph) else None
        if child.tag in _BLOCKS or (child.tag == "br" and last is not None and last.tag == "br"
                                    and not (last.tail or "").strip()):
            if child.tag == "br":
                paragraph.remove(last)
            out.append(paragraph)
            paragraph = parent.makeelement("p")
            if child.tag in _BLOCKS:
                out.append(child)
                paragraph.text, child.tail = child.tail, None
            else:
                paragraph.text = child.tail
        else:
            paragraph.append(child)
    out.append(paragraph)
    parent.extend(p for p in out if p.tag != "p" or len(p) or (p.text or "").strip())


def keep_captions(tree: Any) -> None:
    """Make the <figcaption> of each figure with an image a paragraph where it stands,
    beside its image: the extractor drops captions, and a photo's holds its credit."""
    for caption in tree.xpath("//figure[.//img]/figcaption[normalize-space()]"):
        caption.tag = "p"
