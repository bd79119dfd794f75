"""Layouts from the modern web that a class-word furniture test and `<p>`-only coverage got wrong.

Each page is written here: a story of our own in one layout (page builders' widgets, a page-wide
form, a body class naming a sidebar, a navigation drawer around the content, a story in table
cells or cut by `<br>`, a page whose only `<p>` is its footer), with furniture around it. Each test
asserts the story comes out whole and the furniture does not.
"""

from __future__ import annotations

import pytest

from pipeline.extract import extract_article

STORY = [
    "The county water board voted on Monday to rebuild the old pumping station on the river bank, ending "
    "a dispute that had delayed the work for nearly four years.",
    "Engineers told the board that the station's two diesel pumps date from the nineteen sixties and fail "
    "about once a month during the wet season, flooding the low road beside the mill.",
    "The new station will run on electric pumps fed from the grid, with a battery store large enough to keep "
    "the river level steady through a power cut lasting a full day.",
    "Residents of the mill quarter, who had asked for a flood wall instead, said they would accept the plan if "
    "the board also raised the footpath that floods every spring.",
    "The chair of the board promised a public meeting in the village hall before the contract is signed, and "
    "said the work should begin when the summer water levels are low.",
    "Funding comes from a regional grant and from the board's own reserves, so household water bills will not "
    "rise to pay for the project, according to the finance officer.",
]
TITLE = "Water board votes to rebuild the river pumping station"
MENU = ["Home", "News", "Sport", "Opinion", "Contact us"]
POPULAR = [
    "Ten walks along the coast path this autumn",
    "Bakery on the high street wins a regional prize",
    "School choir travels to the national final",
]
NEWSLETTER = "Get the weekly bulletin in your inbox every Friday morning, free of charge"
ABOUT = (
    "The Valley Courier is an independent weekly paper serving the towns and villages of the upper valley since "
    "nineteen twelve. Our newsroom is funded by readers and local advertisers."
)


def links(items: list[str]) -> str:
    return "".join(f"<li><a href='/{i}'>{text}</a></li>" for i, text in enumerate(items))


def page(body: str, body_attrs: str = "") -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{TITLE} | Valley Courier</title></head><body {body_attrs}>{body}</body></html>"
    )


def paragraphs(tag: str = "p") -> str:
    return "".join(f"<{tag}>{text}</{tag}>" for text in STORY)


def assert_story_whole(text: str) -> None:
    for paragraph in STORY:
        assert paragraph in text
    for furniture in (*MENU[1:], *POPULAR, NEWSLETTER, "independent weekly paper"):
        assert furniture not in text


def elementor() -> str:
    """Elementor: every box, the story's included, is a `…-widget-container`."""
    widget = (
        "<div class='elementor-widget elementor-widget-text-editor'>"
        "<div class='elementor-widget-container'>{}</div></div>"
    )
    story = "".join(widget.format(f"<p>{a}</p><p>{b}</p>") for a, b in zip(STORY[0::2], STORY[1::2], strict=True))
    sidebar = widget.format(f"<h4>Popular</h4><ul>{links(POPULAR)}</ul>")
    return page(
        f"<div class='elementor-location-header'><nav class='elementor-nav-menu'><ul>{links(MENU)}</ul></nav></div>"
        f"<div class='elementor-section'><div class='elementor-column'>"
        f"<div class='elementor-widget elementor-widget-heading'><h1>{TITLE}</h1></div>{story}</div>"
        f"<div class='elementor-column sidebar'>{sidebar}"
        f"{widget.format(f'<div class=newsletter-form>{NEWSLETTER} <input type=email><button>Join</button></div>')}"
        "</div></div>"
        f"<footer class='elementor-location-footer'><p>{ABOUT}</p></footer>"
    )


def aspnet_form() -> str:
    """ASP.NET WebForms: one `<form id="aspnetForm">` around the whole page."""
    return page(
        "<form method='post' action='./story.aspx' id='aspnetForm'><input type='hidden' name='__VIEWSTATE' value='x'>"
        f"<div id='header'><ul class='menu'>{links(MENU)}</ul></div>"
        f"<div id='content'><h1>{TITLE}</h1><div class='story'>{paragraphs()}</div></div>"
        f"<div id='rightcol' class='sidebar'><h3>Most read</h3><ul>{links(POPULAR)}</ul></div>"
        f"<div id='footer'><p>{ABOUT}</p></div></form>"
    )


def body_class_sidebar() -> str:
    """A theme that names its layout on `<body>`: "has-sidebar", "sidebar-right"."""
    return page(
        f"<header><nav><ul>{links(MENU)}</ul></nav></header>"
        f"<main><article class='post'><h1>{TITLE}</h1><div class='entry-content'>{paragraphs()}</div></article>"
        f"<aside class='widget-area'><section class='widget'><h2>Popular</h2><ul>{links(POPULAR)}</ul></section>"
        f"<section class='widget'><p>{NEWSLETTER}</p></section></aside></main>"
        f"<footer><p>{ABOUT}</p></footer>",
        "class='post-template-default single has-sidebar sidebar-right'",
    )


def nav_drawer() -> str:
    """A mobile layout whose off-canvas navigation drawer wraps the page's content panel."""
    return page(
        "<div class='nav_drawer nav_drawer--left'>"
        f"<div class='nav_drawer-menu'><ul>{links(MENU)}</ul></div>"
        f"<div class='nav_drawer-panel'><h1>{TITLE}</h1><div class='article-body'>{paragraphs()}</div>"
        f"<div class='related'><h3>More news</h3><ul>{links(POPULAR)}</ul></div></div>"
        f"</div><div class='site-footer'><p>{ABOUT}</p></div>"
    )


def newsletter_article() -> str:
    """A CMS that puts the page's product name, "newsletter", on the story's own `<article>`."""
    return page(
        f"<nav><ul>{links(MENU)}</ul></nav>"
        f"<article class='post type-newsletter newsletter-issue'><h1>{TITLE}</h1>{paragraphs()}</article>"
        f"<div class='sidebar'><ul>{links(POPULAR)}</ul><p>{NEWSLETTER}</p></div>"
        f"<footer><p>{ABOUT}</p></footer>"
    )


def table_cells() -> str:
    """A press release laid out in table cells, lines cut by `<br>`; its only `<p>` is the footer."""
    cells = "<br><br>".join(STORY)
    menu = " | ".join(f"<a href=/{i}>{m}</a>" for i, m in enumerate(MENU))
    popular = "<br>".join(f"<a href=/p{i}>{t}</a>" for i, t in enumerate(POPULAR))
    return page(
        f"<table width='100%'><tr><td colspan='2'>{menu}"
        f"</td></tr><tr><td width='180' valign='top'>{popular}"
        f"</td><td valign='top'><b>{TITLE}</b><br><br>{cells}</td></tr>"
        f"<tr><td colspan='2'><p>{ABOUT}</p></td></tr></table>"
    )


def br_story() -> str:
    """A story typed into one `<div>`, its paragraphs separated by blank lines of `<br>`."""
    return page(
        f"<div id='top'><ul>{links(MENU)}</ul></div>"
        f"<div class='main'><h1>{TITLE}</h1><div class='text'>{'<br><br>'.join(STORY)}</div></div>"
        f"<div class='right'><ul>{links(POPULAR)}</ul></div>"
        f"<div class='bottom'><p>{ABOUT}</p></div>"
    )


def div_story_one_p_footer() -> str:
    """Paragraphs in `<div>`s; the page's only `<p>` is an about-us blurb in the footer."""
    return page(
        f"<div class='menu-bar'><ul>{links(MENU)}</ul></div>"
        f"<div class='content'><h1>{TITLE}</h1>{paragraphs('div')}</div>"
        f"<div class='more'><ul>{links(POPULAR)}</ul></div>"
        f"<div class='foot'><p>{ABOUT}</p></div>"
    )


@pytest.mark.parametrize(
    "layout",
    [elementor, aspnet_form, body_class_sidebar, nav_drawer, newsletter_article, table_cells, br_story,
     div_story_one_p_footer],
)
def test_the_story_comes_out_whole_without_the_furniture(layout) -> None:
    article = extract_article(layout())

    assert article.reason is None
    assert_story_whole(article.text)


@pytest.mark.parametrize("layout", [elementor, aspnet_form, body_class_sidebar, nav_drawer, newsletter_article])
def test_a_named_wrapper_holding_the_story_is_not_furniture(layout) -> None:
    """The fast stage alone finds the whole story: the wrapper's name does not hide it."""
    from pipeline.extract.mainblock import find_main_block
    from pipeline.extract.parse import parse_html

    tree = parse_html(layout())
    assert tree is not None
    block = find_main_block(tree)
    assert block is not None
    assert block.coverage >= 0.9
    for paragraph in STORY:
        assert paragraph in block.paragraphs


@pytest.mark.parametrize("layout", [table_cells, br_story, div_story_one_p_footer])
def test_story_outside_p_counts_and_a_lone_p_footer_is_not_sure(layout) -> None:
    """Text in cells, `<br>` lines and `<div>`s votes: the footer's `<p>` is not the main block."""
    from pipeline.extract.mainblock import find_main_block
    from pipeline.extract.parse import parse_html

    tree = parse_html(layout())
    assert tree is not None
    block = find_main_block(tree)
    assert block is not None
    assert not any("independent weekly paper" in p for p in block.paragraphs)
    assert sum(p in " ".join(block.paragraphs) for p in STORY) == len(STORY)


OTHER_POSTS = [
    "The harvest fair returns to the market square next month with forty stalls, a brass band on the "
    "Saturday evening and a ploughing match in the meadow behind the church.",
    "A retired teacher has opened a repair café in the old library, where volunteers fix lamps, kettles "
    "and bicycles every second Sunday for the price of a cup of tea.",
    "The ferry across the estuary will run an extra crossing on weekday mornings from March, after "
    "commuters collected more than six hundred signatures for it.",
]


def short_posts_after_the_story() -> str:
    """A short story in its `<article>`, then "you may also like": other posts given whole, each in
    its own `<article>`, together nearly as long as the story."""
    others = "".join(
        f"<article class='postbox post-{n}'><h2><a href='/post-{n}'>Post {n}</a></h2><p>{text}</p></article>"
        for n, text in enumerate(OTHER_POSTS)
    )
    return page(
        f"<nav><ul>{links(MENU)}</ul></nav>"
        f"<article class='articlebox post-main'><h1>{TITLE}</h1>{''.join(f'<p>{t}</p>' for t in STORY[:3])}</article>"
        f"<section class='more'><h3>You may also like</h3>{others}</section>"
    )


def test_other_posts_in_their_own_articles_do_not_count_against_the_story() -> None:
    """Prose in another `<article>` is another post: the block is sure of its own, and the
    other posts' text stays out of the article."""
    from pipeline.extract.mainblock import find_main_block
    from pipeline.extract.parse import parse_html

    tree = parse_html(short_posts_after_the_story())
    assert tree is not None
    block = find_main_block(tree)
    assert block is not None
    assert block.coverage == 1.0
    text = extract_article(short_posts_after_the_story()).text
    assert STORY[0] in text
    assert not any(post in text for post in OTHER_POSTS)


def first_paragraph_beside_a_reader_box() -> str:
    """A blog engine's post body: the opening paragraph in a plain `<div>`, the rest in plain
    `<div>`s inside a classed box next to it."""
    rest = "".join(f"<div>{text}</div><div>&nbsp;</div>" for text in STORY[1:4])
    return page(
        f"<div class='menu-bar'><ul>{links(MENU)}</ul></div>"
        f"<div class='blog-post'><h1>{TITLE}</h1><div class='post-body'>"
        f"<div style='text-align: justify'><span>{STORY[0]}<br></span></div>"
        f"<div class='reader-box'>{rest}</div></div></div>"
        f"<div class='more'><ul>{links(POPULAR)}</ul></div>"
    )


def test_an_opening_paragraph_made_like_the_rest_is_part_of_the_story() -> None:
    from pipeline.extract.mainblock import find_main_block
    from pipeline.extract.parse import parse_html

    tree = parse_html(first_paragraph_beside_a_reader_box())
    assert tree is not None
    block = find_main_block(tree)
    assert block is not None
    assert [p for p in STORY[:4] if p in block.paragraphs] == STORY[:4]
    assert block.coverage == 1.0



@pytest.mark.parametrize("classes, shown", [("hidden", False), ("d-none", False), ("meta is-hidden", False),
                                             ("hidden-xs", True), ("unhidden", True)])
def test_text_a_css_framework_hides_is_not_on_the_page(classes: str, shown: bool) -> None:
    """A theme's schema.org copy of image, publisher and author sits in a `class="hidden"` span:
    the frameworks' display-none classes hide it; `hidden-xs` hides on phones only."""
    from pipeline.extract.blocks import text_blocks
    from pipeline.extract.parse import parse_html

    data = (
        f"<div class='{classes}'><span>https://example.org/wp-content/uploads/2026/11/river-pumps.01200.jpeg"
        "</span> <span>1200</span> <span>676</span> <span>valleyadmin</span></div>"
    )
    tree = parse_html(page(f"<article><h1>{TITLE}</h1>{paragraphs()}{data}</article>"))
    assert tree is not None
    box = tree.xpath("//article/div")[0]
    blocks = text_blocks(tree)
    assert any(b.holder is box or box in b.holder.iterancestors() for b in blocks) is shown
    assert sum(b.holder.tag == "p" for b in blocks) == len(STORY)


RATES = [("Upper valley", "4.2"), ("Mill quarter", "7.9"), ("River bank", "12.6")]


def table_figure_in_the_story() -> str:
    """WordPress's block editor: the story's data table wrapped in `<figure class="wp-block-table">`,
    beside a photo in a `<figure>` with its caption."""
    rows = "".join(f"<tr><td>{place}</td><td>{rate}</td></tr>" for place, rate in RATES)
    return page(
        f"<nav><ul>{links(MENU)}</ul></nav>"
        f"<article><h1>{TITLE}</h1><div class='entry-content'>{''.join(f'<p>{t}</p>' for t in STORY[:3])}"
        "<figure class='wp-block-image'><img src='/pumps.jpg'><figcaption>The old pumps, photographed by "
        "a reader last winter</figcaption></figure>"
        f"<figure class='wp-block-table'><table><tbody>{rows}</tbody></table>"
        "<figcaption>Flood days per year</figcaption></figure>"
        f"{''.join(f'<p>{t}</p>' for t in STORY[3:])}</div></article>"
        f"<footer><p>{ABOUT}</p></footer>"
    )


def test_a_table_in_a_figure_is_part_of_the_story_and_a_photo_figure_is_not() -> None:
    text = extract_article(table_figure_in_the_story()).text
    assert_story_whole(text)
    for place, rate in RATES:
        assert place in text and rate in text
    assert "photographed by a reader" not in text


def test_a_data_table_row_is_one_line_and_a_dated_row_is_not_a_dateline() -> None:
    """A row of text cells reads as one line, its figures beside their label; a row that opens with
    a date is data, not the page's dateline. A layout cell holding `<br>` lines stays blocks."""
    rows = "".join(f"<tr><td>{d}</td><td><a href='/r{i}'>R{i}</a></td><td>{v}</td></tr>"
                   for i, (d, v) in enumerate([("1/3/2026", "+4.2%"), ("1/4/2026", "-1.5%")]))
    html = page(f"<article><h1>{TITLE}</h1>{paragraphs()}<table><tr><th>Month</th><th>Gauge</th><th>Level</th></tr>"
                f"{rows}</table></article>")
    text = extract_article(html).text
    assert_story_whole(text)
    lines = text.split("\n\n")
    assert "Month | Gauge | Level" in lines
    assert "1/3/2026 | R0 | +4.2%" in lines and "1/4/2026 | R1 | -1.5%" in lines
    assert_story_whole(extract_article(table_cells()).text)


def test_a_story_line_that_the_menu_also_links_is_kept_and_a_linked_teaser_in_the_story_is_not() -> None:
    """A paragraph equal to a link's text is a teaser or menu entry when the link is in the story's
    block; a plain line of the story that the page's sidebar happens to link stays."""
    product = "Riverside Pump Model Nine"
    teaser = "Bakery on the high street wins a regional prize"
    story = "".join(f"<p>{t}</p>" for t in STORY[:3]) + f"<p>{product}</p><p><a href='/t'>{teaser}</a></p>"
    html = page(f"<nav><ul>{links(MENU)}</ul></nav><article><h1>{TITLE}</h1>{story}"
                f"{''.join(f'<p>{t}</p>' for t in STORY[3:])}</article>"
                f"<aside><ul><li><a href='/shop'>{product}</a></li></ul></aside>")
    text = extract_article(html).text
    assert_story_whole(text)
    assert product in text.split("\n\n")
    assert teaser not in text


def test_a_hover_card_in_a_sentence_and_a_next_story_card_in_the_block_are_left_out() -> None:
    """A name in a paragraph carries a preview card (photo, the person's latest stories) shown on
    hover; after the story, a "next story" box: a linked heading and a one-line excerpt. Neither
    is the story; a list of many such boxes would be (a round-up)."""
    card = ("<span class='preview'><img src='/chair.jpg'><a href='/people/chair'>Morgan Hale</a>"
            + "".join(f"<a href='/s{i}'>{t}</a> " for i, t in enumerate(POPULAR)) + "</span>")
    excerpt = "Plans for a footbridge beside the mill were shown at the village hall"
    nxt = (f"<div class='grid'><div class='cell'><a href='/next-story'><h5>{POPULAR[0]}</h5></a>"
           f"<p class='row-excerpt'>{excerpt}</p></div></div>")
    first = f"<p>The chair of the board, <span><a href='/people/chair'>Morgan Hale</a>{card}</span>, said so.</p>"
    html = page(f"<nav><ul>{links(MENU)}</ul></nav><article><h1>{TITLE}</h1>{first}{paragraphs()}{nxt}</article>")
    text = extract_article(html).text
    assert_story_whole(text)
    assert "The chair of the board, Morgan Hale, said so." in text  # the name the card hangs on stays
    assert not any(title in text for title in POPULAR)
    assert excerpt not in text

    roundup = "".join(
        f"<div class='cell'><a href='/item{i}'><h3>Item {i} of the list</h3></a><p>{t}</p></div>"
        for i, t in enumerate(STORY)
    )
    listed = extract_article(page(f"<article><h1>{TITLE}</h1><div class='list'>{roundup}</div></article>")).text
    assert_story_whole(listed)
