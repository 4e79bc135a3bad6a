"""Rich text: content markup is parsed before values go in, so user text never becomes markup."""

from bot.markup import Rich, Span, join, parse, plain, render_template, split


def test_content_markup_becomes_styled_spans() -> None:
    rich = parse("Hello **bold** and __italic__ [site](https://example.org)")
    assert rich.spans == (
        Span("Hello "),
        Span("bold", bold=True),
        Span(" and "),
        Span("italic", italic=True),
        Span(" "),
        Span("site", link="https://example.org"),
    )


def test_a_name_full_of_markup_stays_plain_text() -> None:
    rich = render_template("Vous signez sous le nom **{name}**.", name="**<b>x</b>** [a](http://evil) __y__")
    assert rich.plain == "Vous signez sous le nom **<b>x</b>** [a](http://evil) __y__."
    styled = [s for s in rich.spans if s.bold]
    assert styled == [Span("**<b>x</b>** [a](http://evil) __y__", bold=True)]
    assert all(s.link is None for s in rich.spans)


def test_a_rich_fragment_keeps_its_own_style() -> None:
    rich = render_template("A: {x}", x=parse("**b**"))
    assert rich.spans == (Span("A: "), Span("b", bold=True))


def test_long_text_splits_on_paragraphs_then_words() -> None:
    paragraphs = [("word " * 30).strip() for _ in range(10)]
    text = join(plain(p) for p in paragraphs)
    chunks = split(text, 400)
    assert all(len(c.plain) <= 400 for c in chunks)
    assert " ".join(c.plain for c in chunks).split() == text.plain.split()
    assert all(c.plain.startswith("word") and c.plain.endswith("word") for c in chunks)


def test_one_enormous_word_is_cut_without_losing_a_character() -> None:
    text = plain("x" * 10_000)
    chunks = split(text, 4096)
    assert [len(c.plain) for c in chunks] == [4096, 4096, 1808]


def test_styles_survive_a_split() -> None:
    text = Rich((Span("a " * 50, bold=True), Span("\n\n"), Span("b " * 50, italic=True)))
    chunks = split(text, 120)
    assert chunks[0].spans[0].bold and chunks[-1].spans[-1].italic
