"""Article pages built from the samples, with the furniture real blogs put around them.

    PYTHONPATH=$PWD python tests/data/articles/build.py    (writes the fixture pages here)

`article_page(post, theme, rng)` is also what benchmarks/extract.py varies to build its
200 pages: each call with another random generator picks other widgets, comments,
images and their order.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
SAMPLES = HERE / "samples"  # copied from /work/shared/samples (README.md says so)
# What the fixture pages' expected files say must never reach the extracted text.
FURNITURE = (
    "Rendez-vous sur Hellocoton", "Related Posts with Thumbnails", "Laisser un commentaire",
    "Comments", "commentaire", "Articles récents", "Accueil", "cookies", "Partager",
    "Articles similaires", "Fièrement propulsé", "Catégories", "Archives du blog",
    "Abonnement", "Publier un commentaire", "Newsletter", "Rechercher",
)


@dataclass(frozen=True)
class Post:
    """One post of the samples: its title, paragraphs (lines within), comments, date."""

    slug: str
    title: str
    paragraphs: tuple[tuple[str, ...], ...]
    comments: tuple[tuple[str, str], ...]  # (author, text with blank lines between parts)
    date: str
    caption: str = ""  # the caption of its picture, when the sample shows one


def _paragraphs(text: str) -> tuple[tuple[str, ...], ...]:
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text)]
    return tuple(tuple(line.strip() for line in b.splitlines() if line.strip())
                 for b in blocks if b.strip())


def _numbered_comments(text: str) -> tuple[tuple[str, str], ...]:
    parts = re.split(r"\n  \d\. ", "\n" + text)
    authors = ("Sophie", "Julien", "Camille", "Nadia", "Marc", "Léa")
    return tuple((authors[i % 6], re.sub(r"\n    ", "\n", part).strip())
                 for i, part in enumerate(p for p in parts if p.strip()))


def load_posts() -> dict[str, Post]:
    """The article posts of the five samples (001's front page gives three more)."""
    read = {p.name[:3]: p.read_text("utf-8") for p in SAMPLES.glob("00*.txt")}
    posts: dict[str, Post] = {}
    title0, rest0 = read["000"].split("\n\n", 1)
    body0, after = rest0.split("Rendez-vous sur Hellocoton !", 1)
    comments0 = after.split("6 Comments", 1)[1].split("Laisser un commentaire")[0]
    posts["metier"] = Post("aux-personnes-qui-ne-comprennent-pas-mon-metier", title0,
                           _paragraphs(body0), _numbered_comments(comments0), "2012-03-14")
    front = read["001"].split("Rendez-vous sur Hellocoton !")[1:4]
    for key, date, chunk in zip(("pourquoi", "etoi", "bref"),
                                ("2012-02-20", "2012-01-30", "2012-01-12"), front, strict=True):
        title, body = chunk.strip().split("\n\n", 1)
        slug = re.sub(r"[^a-z]+", "-", title.lower()).strip("-")[:40]
        posts[key] = Post(slug, title, _paragraphs(body), (), date)
    _, title2, rest2 = read["002"].split("\n\n", 2)
    body2, comment2 = rest2.split("1\u00a0commentaire:", 1)
    cindy = comment2.strip().removeprefix("Cindy a dit…").strip()
    posts["vis2"] = Post("vis-ma-vie-de-community-manager-2", title2, _paragraphs(body2),
                         (("Cindy", cindy),), "2013-12-12")
    body3 = read["003"].split("Le métier qui n’existe pas – Crédit photo izart.fr", 1)[1]
    posts["existe"] = Post("le-metier-qui-nexiste-pas", "« Le métier qui n’existe pas »",
                           _paragraphs("Bonjour à toutes et à tous,\n\n" + body3), (),
                           "2016-06-09",
                           "Le métier qui n’existe pas – Crédit photo izart.fr")
    body4 = read["004"].split("\n\n", 2)[2].split("Aucun commentaire:")[0]
    posts["vis1"] = Post("vis-ma-vie-de-cm", "Vis ma vie de CM", _paragraphs(body4), (),
                         "2012-07-13")
    return posts


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _body_html(post: Post, theme: str) -> str:
    # WordPress's wpautop turns a lone newline into <br />; Blogger keeps the text with
    # <br /> and no paragraphs at all, one of the hardest shapes for an extractor.
    if theme == "blogger":
        return "<br />\n<br />\n".join("<br />\n".join(map(_esc, p)) for p in post.paragraphs)
    return "\n".join("<p>" + "<br />\n".join(map(_esc, p)) + "</p>" for p in post.paragraphs)


def _image(base: str, post: Post, rng: random.Random) -> str:
    src = f"{base}/wp-content/uploads/{post.date[:4]}/{post.slug}-1024x576.jpg"
    alt = f'alt="{html.escape(post.title)}"'
    if rng.random() < 0.5:  # a lazy-loading plugin: a placeholder in src, the real one aside
        return (f'<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAAB'
                f'AAEAAAIBRAA7" data-lazy-src="{src}" data-lazy-srcset="{src} 1024w, '
                f'{src[:-13]}-300x169.jpg 300w" width="1024" height="576" {alt} '
                f'class="lazyload wp-image-{rng.randint(10, 999)}"><noscript><img src="{src}" '
                f"{alt}></noscript>")
    return f'<img src="{src}" width="1024" height="576" {alt} class="aligncenter">'


def _hellocoton(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return ('<div class="hellocoton" style="text-align:right"><a href="http://www.hellocoton.fr'
                '/vote" title="Rendez-vous sur Hellocoton !"><img src="http://widget.hellocoton.fr/'
                'img/action-on.gif" alt="Rendez-vous sur Hellocoton !" border="0"></a></div>')
    return ('<p style="text-align:right"><a href="http://www.hellocoton.fr/mapage/metier">'
            "Rendez-vous sur Hellocoton !</a></p>")


def _linkwithin(base: str, titles: list[str]) -> str:
    items = "".join(
        f'<a href="{base}/?p={i + 40}" class="linkwithin_link"><img src="{base}/wp-content/'
        f'uploads/thumb-{i}.jpg" alt=""><div class="linkwithin_title">{_esc(t)}</div></a>'
        for i, t in enumerate(titles))
    return (f'<div class="linkwithin_div"><div class="linkwithin_text">Related Posts with '
            f'Thumbnails</div><div class="linkwithin_posts">{items}</div><a href="http://www.'
            f'linkwithin.com/" class="linkwithin_logo">LinkWithin</a></div>')


def _share(rng: random.Random) -> str:
    nets = rng.sample(["Twitter", "Facebook", "LinkedIn", "Pinterest", "E-mail", "Imprimer"], 4)
    items = "".join(f'<li class="share-{n.lower()}"><a rel="nofollow" class="share-{n.lower()} '
                    f'sd-button" href="?share={n.lower()}" target="_blank"><span>{n}</span></a>'
                    "</li>" for n in nets)
    return ('<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block '
            'sd-social sd-social-icon-text sd-sharing"><h3 class="sd-title">Partager :</h3>'
            f'<div class="sd-content"><ul>{items}</ul></div></div></div>')


def _related(base: str, titles: list[str]) -> str:
    items = "".join(f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title">'
                    f'<a href="{base}/?p={i + 7}">{_esc(t)}</a></h4><p class="jp-relatedposts-'
                    f'post-context">Dans « Community management »</p></div>'
                    for i, t in enumerate(titles))
    return ('<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-'
            f'headline"><em>Articles similaires</em></h3>{items}</div>')


def _comment_paragraphs(text: str) -> str:
    return "".join(f"<p>{_esc(part.strip())}</p>" for part in re.split(r"\n\s*\n", text)
                   if part.strip())


def _wp_comments(post: Post, count: int) -> str:
    items = "".join(
        f'<li id="comment-{i + 120}" class="comment even depth-1"><article class="comment-body">'
        f'<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{author}'
        f'</b> <span class="says">dit :</span></div><div class="comment-metadata"><a href="#'
        f'comment-{i + 120}"><time datetime="{post.date}T10:{i:02d}:00+01:00">{post.date}</time>'
        f'</a></div></footer><div class="comment-content">{_comment_paragraphs(text)}</div>'
        '<div class="reply"><a class="comment-reply-link" href="#respond">Répondre</a></div>'
        "</article></li>" for i, (author, text) in enumerate(post.comments))
    heading = f"{count} Comments" if count != 1 else "1 Comment"
    return (f'<div id="comments" class="comments-area"><h2 class="comments-title">{heading}</h2>'
            f'<ol class="comment-list">{items}</ol><div id="respond" class="comment-respond">'
            '<h3 id="reply-title" class="comment-reply-title">Laisser un commentaire</h3><form '
            'action="/wp-comments-post.php" method="post" id="commentform"><p class="comment-'
            'notes">Votre adresse e-mail ne sera pas publiée.</p><p class="comment-form-comment">'
            '<label for="comment">Commentaire</label><textarea id="comment" name="comment">'
            '</textarea></p><p class="form-submit"><input name="submit" type="submit" '
            'value="Laisser un commentaire"></p></form></div></div>')


def _blogger_comments(post: Post) -> str:
    if not post.comments:
        return ('<div class="comments" id="comments"><a name="comments"></a><h4>Aucun '
                'commentaire:</h4><p class="comment-footer"><a href="#">Publier un commentaire'
                "</a></p></div>")
    items = "".join(f'<dt class="comment-author" id="c{i}"><a name="c{i}"></a>{author} a dit…'
                    f'</dt><dd class="comment-body"><p>{_comment_paragraphs(text)}</p></dd>'
                    f'<dd class="comment-footer"><span class="comment-timestamp">{post.date}'
                    "</span></dd>" for i, (author, text) in enumerate(post.comments))
    return (f'<div class="comments" id="comments"><a name="comments"></a><h4>{len(post.comments)}'
            f' commentaire:</h4><div id="Blog1_comments-block-wrapper"><dl class="avatar-comment'
            f'-indent" id="comments-block">{items}</dl></div><p class="comment-footer"><a href='
            '"#">Publier un commentaire</a></p></div>')


def _sidebar(base: str, titles: list[str], rng: random.Random) -> str:
    widgets = [
        '<section class="widget widget_search"><form role="search" class="search-form"><label>'
        '<span class="screen-reader-text">Rechercher :</span><input type="search" name="s">'
        '</label><input type="submit" value="Rechercher"></form></section>',
        '<section class="widget widget_recent_entries"><h2 class="widget-title">Articles récents'
        "</h2><ul>" + "".join(f'<li><a href="{base}/?p={i}">{_esc(t)}</a></li>'
                              for i, t in enumerate(titles)) + "</ul></section>",
        '<section class="widget widget_categories"><h2 class="widget-title">Catégories</h2><ul>'
        '<li class="cat-item"><a href="/category/cm/">Community management</a> (12)</li><li '
        'class="cat-item"><a href="/category/web/">Web</a> (8)</li></ul></section>',
        '<section class="widget widget_text"><h2 class="widget-title">Newsletter</h2><div class="'
        'textwidget"><p>Recevez chaque nouvel article par e-mail, une fois par semaine, sans '
        "publicité et sans engagement : inscrivez-vous en deux clics.</p></div></section>",
        '<section class="widget widget_archive"><h2 class="widget-title">Archives du blog</h2>'
        '<ul><li><a href="/2012/03/">mars 2012</a></li><li><a href="/2012/02/">février 2012</a>'
        "</li></ul></section>",
    ]
    rng.shuffle(widgets)
    return ('<aside id="secondary" class="sidebar widget-area" role="complementary">'
            + "".join(widgets[: rng.randint(3, 5)]) + "</aside>")


def _head(post: Post, base: str, charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html>\n<html lang="fr-FR"><head><meta charset="{charset}"><meta name="'
            'viewport" content="width=device-width, initial-scale=1"><title>'
            f'{_esc(post.title)} | Mon métier, c’est le web</title><link rel="canonical" href="'
            f'{base}/{post.date[:4]}/{post.slug}/"><meta property="og:type" content="article">'
            f'<meta property="og:title" content="{html.escape(post.title)}"><link rel="alternate"'
            f' type="application/rss+xml" href="{base}/feed/"><style>body{{font-family:Georgia}}'
            ".cn-bottom{position:fixed;bottom:0}</style><script>window._wpemojiSettings={};"
            "</script></head>\n")


NAV = ('<nav id="site-navigation" class="main-navigation" role="navigation"><ul id="menu-'
       'principal" class="nav-menu"><li><a href="/">Accueil</a></li><li><a href="/a-propos/">À '
       'propos</a></li><li><a href="/category/cm/">Community management</a></li><li><a href="/'
       'contact/">Contact</a></li></ul></nav>')
COOKIES = ('<div id="cookie-notice" role="banner" class="cn-bottom"><div class="cookie-notice-'
           'container"><span id="cn-notice-text">Nous utilisons des cookies pour vous garantir la '
           "meilleure expérience sur notre site web. Si vous continuez à utiliser ce site, nous "
           'supposerons que vous en êtes satisfait.</span><a href="#" id="cn-accept-cookie" class="'
           'cn-button">Ok</a><a href="/confidentialite/" class="cn-more-info">Politique de '
           "confidentialité</a></div></div>")
FOOTER = ('<footer id="colophon" class="site-footer" role="contentinfo"><div class="site-info">'
          '<a href="https://wordpress.org/">Fièrement propulsé par WordPress</a> · Thème Twenty '
          'Fifteen</div></footer><img src="https://pixel.wp.com/g.gif?blog=1234&amp;post=56" '
          'alt=":)" width="6" height="5" id="wpstats"><script src="/wp-includes/js/wp-embed.min.js'
          '"></script>')


def wordpress_page(post: Post, base: str, rng: random.Random, others: list[str],
                   everything: bool = False) -> str:
    """A WordPress post page (Twenty Fifteen-like) with plugins' furniture around `post`;
    all of it with `everything`, else a random choice."""
    after = [_hellocoton(rng), _linkwithin(base, others[:3]), _share(rng),
             _related(base, others[1:4])]
    after = [piece for piece in after if everything or rng.random() < 0.85] or after[:1]
    body = _body_html(post, "wordpress")
    if post.caption:
        body = (f'<figure class="wp-caption aligncenter">{_image(base, post, rng)}<figcaption '
                f'class="wp-caption-text">{_esc(post.caption)}</figcaption></figure>' + body)
    elif everything or rng.random() < 0.7:  # a picture at the top, or after the first paragraph
        cut = body.find("</p>") + 4 if rng.random() < 0.5 else 0
        body = body[:cut] + "<p>" + _image(base, post, rng) + "</p>" + body[cut:]
    article = (f'<article id="post-56" class="post-56 post type-post status-publish hentry">'
               f'<header class="entry-header"><h1 class="entry-title">{_esc(post.title)}</h1>'
               f'<div class="entry-meta"><span class="posted-on"><time class="entry-date '
               f'published" datetime="{post.date}T09:00:00+01:00">{post.date}</time></span> '
               '<span class="byline">par <a href="/author/marie/">Marie</a></span></div></header>'
               f'<div class="entry-content">{body}{"".join(after)}</div><footer class="entry-'
               'footer"><span class="cat-links">Publié dans <a href="/category/cm/" rel="category '
               'tag">Community management</a></span></footer></article>')
    comments = _wp_comments(post, len(post.comments) + 2 * (len(post.comments) > 0))
    banner = COOKIES if everything or rng.random() < 0.8 else ""
    return (_head(post, base) + '<body class="post-template-default single single-post"><div '
            'id="page" class="hfeed site"><a class="skip-link screen-reader-text" href="#content"'
            '>Aller au contenu</a><header id="masthead" class="site-header"><p class="site-title"'
            '><a href="/">Mon métier, c’est le web</a></p></header>' + NAV + '<div id="content" '
            'class="site-content"><main id="main" class="site-main">' + article + comments
            + "</main>" + _sidebar(base, others, rng) + "</div>" + FOOTER + banner
            + "</div></body></html>\n")


def blogger_page(post: Post, base: str, rng: random.Random, others: list[str],
                 everything: bool = False) -> str:
    """A Blogger post page (the Simple template): a date header, text with <br />, comments."""
    photo = f"{base}/img/b/R29vZ2xl/AVvXsEi{post.slug[:8]}/s1600/{post.slug}.jpg"
    image = (f'<div class="separator" style="clear:both;text-align:center"><a href="{photo}" '
             f'style="margin-left:1em"><img border="0" src="{photo.replace("s1600", "s320")}" '
             'width="320" height="213"></a></div>') if everything or rng.random() < 0.7 else ""
    archive = "".join(f'<li><a href="{base}/{post.date[:4]}/0{i + 1}/p{i}.html">{_esc(t)}</a></li>'
                      for i, t in enumerate(others))
    share = ('<div class="post-share-buttons goog-inline-block"><a class="goog-inline-block share'
             '-button sb-email" href="#" title="Envoyer par e-mail"><span class="share-button-link'
             '-text">Envoyer par e-mail</span></a><a class="share-button sb-twitter" href="#" '
             'title="Partager sur Twitter"><span>Partager sur Twitter</span></a><a class="share-'
             'button sb-facebook" href="#"><span>Partager sur Facebook</span></a></div>')
    return (_head(post, base) + '<body class="loading"><div class="navbar section" id="navbar">'
            '<div class="widget Navbar"><iframe src="https://www.blogger.com/navbar.g" height="30">'
            '</iframe></div></div><div class="content-outer"><header><div class="header-outer">'
            f'<div class="Header widget"><h1 class="title"><a href="{base}/">Chifoumy</a></h1><p '
            'class="description">Pierre, feuille, community manager</p></div></div></header>'
            '<div class="tabs-outer"><ul class="PageList"><li><a href="/">Accueil</a></li><li><a '
            'href="/p/qui-suis-je.html">Qui suis-je ?</a></li></ul></div><div class="main-outer">'
            '<div class="date-outer"><h2 class="date-header"><span>' + _french_date(post)
            + '</span></h2><div class="post hentry" itemprop="blogPost"><h3 class="post-title '
            f'entry-title" itemprop="name">{_esc(post.title)}</h3><div class="post-body entry-'
            f'content" id="post-body-77" itemprop="description articleBody">{image}'
            + _body_html(post, "blogger") + '<div style="clear: both;"></div></div><div class="'
            'post-footer"><span class="post-author vcard">Publié par <span class="fn">Chifoumy'
            '</span></span> à <a class="timestamp-link" href="#">10:12</a>' + share
            + '<span class="post-labels">Libellés : <a href="/search/label/CM">CM</a>, <a href="'
            '/search/label/Vis%20ma%20vie">Vis ma vie</a></span></div></div>'
            + _blogger_comments(post) + '</div></div><div class="sidebar-outer"><div class="'
            'widget BlogArchive"><h2>Archives du blog</h2><ul class="hierarchy">' + archive
            + '</ul></div><div class="widget Followers"><h2 class="title">Abonnement</h2><p>Publier'
            " les commentaires (Atom)</p></div></div></div>"
            + COOKIES * (everything or rng.random() < 0.5)
            + '<img src="https://www.google-analytics.com/collect?v=1&amp;t=pageview" width="1" '
            'height="1" alt=""></body></html>\n')


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")


def _french_date(post: Post) -> str:
    year, month, day = post.date.split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"


def listing_page(posts: list[Post], base: str) -> str:
    """A tag page: each post's title, one sentence and "Lire la suite", no article."""
    items = "".join(
        f'<article class="post type-post"><header class="entry-header"><h2 class="entry-title">'
        f'<a href="{base}/{p.date[:4]}/{p.slug}/">{_esc(p.title)}</a></h2></header><div class="'
        f'entry-summary"><p>{_esc(p.paragraphs[0][0])} […]</p><a class="more-link" href="{base}/'
        f'{p.date[:4]}/{p.slug}/">Lire la suite</a></div></article>' for p in posts)
    head = _head(Post("tag", "Étiquette : community management", (), (), "2012-01-01"), base)
    return (head + '<body class="archive tag"><div id="page" class="site">' + NAV + '<main id="'
            'main" class="site-main"><header class="page-header"><h1 class="page-title">Étiquette :'
            ' <span>community management</span></h1></header>' + items + '<nav class="navigation'
            ' pagination"><a class="next page-numbers" href="/tag/cm/page/2/">Articles plus anciens'
            "</a></nav></main>" + FOOTER + "</div></body></html>\n")


def error_page(base: str) -> str:
    """A theme's 404 page: a heading, one sentence, a search form and the usual furniture."""
    head = _head(Post("404", "Page non trouvée", (), (), "2012-01-01"), base)
    return (head + '<body class="error404"><div id="page" class="site">' + NAV + '<main id="main"'
            ' class="site-main"><section class="error-404 not-found"><header class="page-header">'
            '<h1 class="page-title">Oups ! Cette page est introuvable.</h1></header><div class="'
            'page-content"><p>Il semblerait que rien n’ait été trouvé à cette adresse. Essayez '
            'peut-être une recherche ?</p><form role="search" class="search-form"><input type="'
            'search" name="s"></form></div></section></main>' + FOOTER + "</div></body></html>\n")


# The fixture pages: (file stem, post, theme, site).
ARTICLES = (
    ("wp-metier", "metier", "wordpress", "https://monmetier.example"),
    ("wp-pourquoi", "pourquoi", "wordpress", "https://monmetier.example"),
    ("wp-etoi", "etoi", "wordpress", "https://monmetier.example"),
    ("wp-bref", "bref", "wordpress", "https://monmetier.example"),
    ("wp-existe", "existe", "wordpress", "https://isabelle.example"),
    ("blogger-vis2", "vis2", "blogger", "https://chifoumy.example"),
    ("blogger-vis1", "vis1", "blogger", "https://chifoumy.example"),
)


def article_page(post: Post, theme: str, base: str, rng: random.Random, others: list[str],
                 everything: bool = False) -> str:
    """`post`'s page on a `theme` site ("wordpress" or "blogger")."""
    build = wordpress_page if theme == "wordpress" else blogger_page
    return build(post, base, rng, others, everything)


def page_url(post: Post, theme: str, base: str) -> str:
    """Where `post`'s page is, as the feed links it."""
    if theme == "blogger":
        return f"{base}/{post.date[:4]}/{post.date[5:7]}/{post.slug}.html"
    return f"{base}/{post.date[:4]}/{post.slug}/"


def expected(post: Post, page: str) -> dict[str, object]:
    """What extracting `page` must give: its first and last paragraph, none of the rest."""
    article = "\n".join("\n".join(p) for p in post.paragraphs)
    comments = [text.strip().split("\n")[0][:60] for _, text in post.comments]
    heading = re.findall(r'class="comments-title">([^<]+)<|<h4>([^<]*commentaire:)</h4>', page)
    absent = [s for s in (*FURNITURE, *comments, *(a or b for a, b in heading))
              if s in html.unescape(page) and s not in article]
    images = re.findall(r'(?:data-lazy-src|<img src)="([^"]+-1024x576\.jpg)"'
                        r'|<img border="0" src="([^"]+)"', page)
    return {"article": True, "first": post.paragraphs[0][0], "last": post.paragraphs[-1][-1],
            "absent": absent, "images": sorted({a or b for a, b in images}),
            "never": ["pixel.wp.com", "google-analytics.com", "data:image"]}


def write_fixtures() -> None:
    """Write every fixture page of this folder and the expected result beside it."""
    posts = load_posts()
    titles = [p.title for p in posts.values()]
    for stem, key, theme, base in ARTICLES:
        post = posts[key]
        page = article_page(post, theme, base, random.Random(stem), titles, everything=True)
        _write(stem, page.encode(), page_url(post, theme, base), expected(post, page))
    base = "https://monmetier.example"
    listing = listing_page([posts[k] for k in ("metier", "pourquoi", "etoi", "bref")], base)
    _write("tag-listing", listing.encode(), f"{base}/tag/community-management/", NO_ARTICLE)
    _write("error-404", error_page(base).encode(), f"{base}/2012/page-disparue/", NO_ARTICLE)
    write_hostile(posts, titles)


NO_ARTICLE: dict[str, object] = {"article": False}


def _write(stem: str, page: bytes, url: str, result: dict[str, object]) -> None:
    (HERE / f"{stem}.html").write_bytes(page)
    (HERE / f"{stem}.expected.json").write_text(
        json.dumps({"url": url, **result}, ensure_ascii=False, indent=2) + "\n", "utf-8")


def write_hostile(posts: dict[str, Post], titles: list[str]) -> None:
    """Pages in other encodings, mislabelled, and not HTML at all."""
    post, base = posts["existe"], "https://isabelle.example"
    url, rng = page_url(post, "wordpress", base), random.Random("hostile")
    page = article_page(post, "wordpress", base, rng, titles, everything=True)
    result = expected(post, page)
    cp1252 = page.replace('charset="utf-8"', 'charset="windows-1252"')
    _write("hostile-cp1252", cp1252.encode("cp1252", "xmlcharrefreplace"), url, result)
    _write("hostile-utf16-bom", page.encode("utf-16"), url, result)
    # Declared UTF-8 but written in Latin-1: the text comes out with replacement
    # characters, so only the words without accents are promised.
    latin1 = page.encode("latin-1", "xmlcharrefreplace")
    _write("hostile-mislabelled", latin1, url, {**result, "first": "Bon ben finalement",
                                                "last": "Isabelle"})
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    _write("hostile-binary", png, f"{base}/image.png", NO_ARTICLE)


if __name__ == "__main__":
    write_fixtures()
