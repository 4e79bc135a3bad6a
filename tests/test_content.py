"""Campaign content: the petition verbatim, a complete FAQ, and clear errors for broken files."""

import ast
import re
import shutil
from pathlib import Path

import pytest

from bot import messages
from bot.content import ContentError, load_content

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = ROOT / "content" / "sante-microsoft"
SEED = Path(__file__).parent / "data" / "petition_seed.md"


def _normalise(text: str) -> str:
    text = text.replace("**", "")
    text = re.sub(r"\[([^\]]+)\]\(#\)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def test_the_petition_is_kept_verbatim() -> None:
    content = load_content(CAMPAIGN)
    seed = _normalise(SEED.read_text(encoding="utf-8"))
    p = content.petition
    assert _normalise(p.title) in seed
    for paragraph in p.paragraphs:
        assert _normalise(paragraph.text) in seed
    for demand in p.demands:
        assert _normalise(f"{demand.number}/ {demand.text}") in seed
    for entry in p.chronology:
        assert _normalise(entry.text["fr"]) in seed
    assert p.published_count == 18882
    assert len(p.demands) == 3


def test_the_cnil_date_of_the_body_is_what_the_faq_says() -> None:
    content = load_content(CAMPAIGN)
    assert any("31 janvier 2024" in p.text for p in content.petition.paragraphs)
    assert any("31 décembre 2024" in c.date["fr"] for c in content.petition.chronology)
    answers = " ".join(e.answer["fr"] for e in content.faq)
    assert "31 janvier 2024" in answers


def test_the_faq_is_complete_in_both_languages() -> None:
    content = load_content(CAMPAIGN)
    assert len(content.faq) >= 25
    for entry in content.faq:
        assert entry.sources, entry.id
        for lang in ("fr", "en"):
            assert entry.question[lang] and entry.answer[lang] and entry.paraphrases[lang], entry.id


def _broken_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "campaign"
    shutil.copytree(CAMPAIGN, folder)
    return folder


def test_a_missing_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    path = folder / "campaign.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("consent_version", "consent_versoin"), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert "campaign.toml" in str(caught.value) and "campaign.consent_version" in str(caught.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    (folder / "faq.toml").write_text("[[faq]\nid = ", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert "faq.toml" in str(caught.value)


def test_a_message_missing_in_english_is_named(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    (folder / "messages" / "extra.toml").write_text('[fr]\nonly_french = "Bonjour"\n[en]\n', encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert "extra.toml" in str(caught.value) and "en.only_french" in str(caught.value)


def test_a_faq_citing_an_unknown_passage_is_refused(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    path = folder / "faq.toml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^sources = \[[^\]]*\]", 'sources = ["p99"]', text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert "p99" in str(caught.value)


# The content contract (bot/messages.py) ---------------------------------------------

_SENDS = {"say": 0, "t": 0, "label": 0, "_t": 0, "_say": 0, "template": 1}  # method -> position of the key


def _code() -> list[tuple[Path, ast.AST]]:
    return [
        (path, node)
        for folder in ("bot", "handlers")
        for path in (ROOT / folder).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    ]


def test_every_message_key_the_code_uses_is_declared() -> None:
    """A key written in the code, or built there from pieces, is in the contract the content is checked against."""
    declared = messages.required()
    shipped = set(load_content(CAMPAIGN).messages["fr"])
    undeclared, unbuilt = [], []
    for path, node in _code():
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in shipped:
            if node.value not in declared:
                undeclared.append(f"{path.name}: {node.value}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SENDS:
            position = _SENDS[node.func.attr]
            key = node.args[position] if len(node.args) > position else None
            if isinstance(key, ast.Constant) and key.value not in declared:
                undeclared.append(f"{path.name}: {key.value}")
            if isinstance(key, ast.JoinedStr):  # built at run time: its fixed parts must build declared keys
                first, last = key.values[0], key.values[-1]
                head = str(first.value) if isinstance(first, ast.Constant) else ""
                tail = str(last.value) if isinstance(last, ast.Constant) else ""
                if not any(name.startswith(head) and name.endswith(tail) for name in declared):
                    unbuilt.append(f"{path.name}: {ast.unparse(key)}")
    assert undeclared == [] and unbuilt == []


def test_each_refusal_of_the_official_count_has_its_message() -> None:
    source = ast.parse((ROOT / "bot" / "arguments.py").read_text(encoding="utf-8"))
    raised = {
        node.args[0].value
        for node in ast.walk(source)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "ArgumentError"
        and isinstance(node.args[0], ast.Constant)
        and str(node.args[0].value).startswith("count_")
    }
    assert raised == set(messages.COUNT_REFUSALS)


def test_a_campaign_without_a_message_the_bot_builds_fails_at_load_naming_file_and_key(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    path = folder / "messages" / "broadcast.toml"
    path.write_text(re.sub(r"(?m)^kind_daily = .*$", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    load_content(folder)  # a well-formed file: only the contract knows the bot needs it
    with pytest.raises(ContentError) as caught:
        load_content(folder, messages.required())
    assert caught.value.path == path and caught.value.key == "fr.kind_daily"


def test_small_talk_without_its_reply_is_named(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    path = folder / "messages" / "answers.toml"
    path.write_text(re.sub(r"(?m)^smalltalk_thanks = .*$", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert caught.value.path == path and caught.value.key == "fr.smalltalk_thanks"


def test_placeholders_are_marked_in_the_content_and_never_a_value() -> None:
    content = load_content(CAMPAIGN)
    campaign = content.campaign
    assert campaign.controller is None and campaign.contact is None and campaign.petition_url is None
    assert [(p.file, p.key) for p in content.placeholders] == [
        ("campaign.toml", "campaign.controller"),
        ("campaign.toml", "campaign.contact"),
        ("campaign.toml", "campaign.petition_url"),
    ]
    assert all(p.what for p in content.placeholders)
    assert content.petition.published_count_date is None  # the source gives no date for its count


def test_a_filled_in_value_replaces_its_placeholder(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    path = folder / "campaign.toml"
    text = re.sub(r"(?m)^contact = \{.*\}$", 'contact = "dpo@collectif.test"', path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    content = load_content(folder)
    assert content.campaign.contact == "dpo@collectif.test"
    assert [p.key for p in content.placeholders] == ["campaign.controller", "campaign.petition_url"]


def test_an_empty_placeholder_is_named(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path)
    path = folder / "campaign.toml"
    text = re.sub(r"(?m)^contact = \{.*\}$", 'contact = { placeholder = "" }', path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert "campaign.contact.placeholder" in str(caught.value)
