"""Campaign content: the petition verbatim, a complete FAQ, and clear errors for broken files."""

import re
import shutil
from pathlib import Path

import pytest

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
        assert _normalise(entry.text) in seed
    assert p.published_count == 18882
    assert len(p.demands) == 3


def test_the_cnil_date_of_the_body_is_what_the_faq_says() -> None:
    content = load_content(CAMPAIGN)
    assert any("31 janvier 2024" in p.text for p in content.petition.paragraphs)
    assert any("31 décembre 2024" in c.date for c in content.petition.chronology)
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


def test_every_message_key_used_in_code_exists() -> None:
    content = load_content(CAMPAIGN)
    used: set[str] = set()
    pattern = re.compile(r"""\b(?:say|t|label|template)\(\s*(?:[a-z_]+,\s*)?["']([a-z0-9_]+)["']""")
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            used.update(pattern.findall(path.read_text(encoding="utf-8")))
    for path in (ROOT / "handlers").rglob("*.py"):
        used.update(re.findall(r'menu="([a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if key not in content.messages["fr"])
    assert missing == []


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
