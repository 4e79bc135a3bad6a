"""Campaign content loaded from `content/<campaign>/` and validated once at start-up.

Everything a user reads lives in these files, so another petition is another
folder. Validation errors name the file and the key, because the people who edit
these files are campaign volunteers, not developers.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.choices import ReplyWords
from bot.markup import Rich, render_template

LANGUAGES = ("fr", "en")  # the languages every text of a campaign is given in; the first is the petition's own
TEXT_LANGUAGE = LANGUAGES[0]  # the petition's text, quoted verbatim, is in this language
# A text in each of LANGUAGES: handlers pick the user's (`entry.answer[ctx.lang]`), never branch on it.
ByLanguage = Mapping[str, str]
SMALLTALK_PREFIX = "smalltalk_"  # the reply to a small-talk entry of chat.toml is the message `smalltalk_<id>`
# Sources that are not passages of the text: the bot's own behaviour, the published count.
SPECIAL_SOURCES = ("bot", "count")


class ContentError(Exception):
    """A campaign file is missing, unreadable or lacks a required key."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path = path
        self.key = key


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of the petition body, citable by id."""

    id: str
    text: str


@dataclass(frozen=True)
class Demand:
    id: str
    number: int
    text: str  # verbatim, in the petition's language
    short: ByLanguage  # the demand in a few words


@dataclass(frozen=True)
class ChronologyEntry:
    id: str
    date: ByLanguage  # as written in the petition ("Novembre 2023"), and as shown in each language
    sort_key: str  # ISO-like, for ordering ("2023-11")
    text: ByLanguage


@dataclass(frozen=True)
class Petition:
    title: str
    published_count: int
    published_count_date: dt.date | None  # None when the source gives no date for that count
    paragraphs: tuple[Paragraph, ...]
    demands_intro: str
    demands: tuple[Demand, ...]
    chronology_title: ByLanguage
    chronology: tuple[ChronologyEntry, ...]
    # For readers of another language than the petition's, a summary shown after its text ("" in its own).
    summary: ByLanguage

    def passage(self, passage_id: str) -> str | None:
        """The human-readable name of a cited passage ("§3", "demande 1", "chronologie 2019")."""
        for p in self.paragraphs:
            if p.id == passage_id:
                return p.text
        for d in self.demands:
            if d.id == passage_id:
                return d.text
        for c in self.chronology:
            if c.id == passage_id:
                return f"{c.date[TEXT_LANGUAGE]} : {c.text[TEXT_LANGUAGE]}"
        return None


@dataclass(frozen=True)
class FaqEntry:
    id: str
    topic: str
    sources: tuple[str, ...]
    question: ByLanguage
    paraphrases: Mapping[str, tuple[str, ...]]
    answer: ByLanguage
    command: str | None = None  # answered by running this command (live figures, the full text...)
    offer: str | None = None  # the answer ends with a choice running this command (e.g. "signer")


@dataclass(frozen=True)
class Topic:
    id: str
    label: ByLanguage


@dataclass(frozen=True)
class Placeholder:
    """A value the campaign has not filled in yet, written `key = { placeholder = "what goes here" }`."""

    file: str  # "campaign.toml"
    key: str  # "campaign.controller"
    what: str  # what the campaign must write there


@dataclass(frozen=True)
class Campaign:
    slug: str
    bot_name: ByLanguage
    controller: str | None  # None while it is a placeholder: supporters are told it is not named yet
    contact: str | None
    petition_url: str | None
    consent_version: str
    end_date: dt.date
    retention_days: int
    milestones: tuple[int, ...]
    milestone_step_after: int
    count_source_url: str
    count_source_pattern: str
    synonyms: tuple[tuple[str, ...], ...]
    placeholders: tuple[Placeholder, ...] = ()


FOLLOWS = ("", "answer", "sources")  # what a small-talk phrase asks about the answer just given


@dataclass(frozen=True)
class SmallTalk:
    """Messages that are not questions ("bonjour", "merci", "what can you do"): phrases per language."""

    id: str
    phrases: Mapping[str, tuple[str, ...]]
    entry: str = ""  # a FAQ entry answered instead of `smalltalk_<id>` ("c'est quoi ce truc ?" → the summary)
    # Only a whole message: "c'est grave ?" after "Mon médecin utilise Windows, " is about the doctor.
    alone: bool = False
    # After an answer, asks about it: "answer" ("et alors ?": the entry the two ask for, or entries next
    # to it), "sources" ("qui a dit ça ?": where it comes from); "" for small talk of its own.
    follows: str = ""
    # No reply mid-dialogue ("ok", "c'est bon ?"): the step's question, asked again, is the reply.
    quiet: bool = False
    # Often borrowed from the other language ("merci" after English questions): answered in the person's.
    courtesy: bool = False


@dataclass(frozen=True)
class ChatLexicon:
    """How people write in chats, for question answering (`chat.toml`): data, so a campaign extends it."""

    replacements: Mapping[str, str]  # chat form -> standard form ("c koi" -> "c'est quoi")
    fillers: tuple[str, ...]  # words that say nothing about the topic ("franchement", "mdr")
    smalltalk: tuple[SmallTalk, ...]  # in order of precedence
    actions: tuple[SmallTalk, ...] = ()  # id: a command offered as a choice when a phrase is in a message
    intents: tuple[Intent, ...] = ()  # commands recognised by groups of words anywhere in a message
    off_topic: tuple[str, ...] = ()  # phrases of questions never answered ("stock price"), campaign words or not
    # Phrases that name a cause ("pétition contre", "petition to"): about another cause when no word of the
    # content follows them ("la pétition contre la réforme des retraites", "a petition to save my library").
    other_causes: tuple[str, ...] = ()
    # Phrases that may name a cause or a purpose ("pétition pour…"): a purpose when one of `purpose_words`
    # follows ("résumez les demandes de la pétition pour mon député"), else a cause ("pour sauver…").
    other_purposes: tuple[str, ...] = ()
    purpose_words: tuple[str, ...] = ()
    # Words that, next to a date of the chronology and nothing else, ask what happened then
    # ("il s'est passé quoi en décembre 2023 ?"): every event of that date is the answer.
    event_words: tuple[str, ...] = ()
    # Words after which a cause comes BEFORE them ("the A69 motorway | petition"), back to one of
    # `cause_bounds` ("the", "a"); only rare words count there ("the official petition" is this one).
    causes_before: tuple[str, ...] = ()
    cause_bounds: tuple[str, ...] = ()
    # Insults say nothing: "t'es nul, qui héberge les données ?" asks who hosts them; alone, the usual decline.
    insults: tuple[str, ...] = ()
    # Commands whose request, typed in the middle of another dialogue, is done at once ("je retire").
    interrupting: tuple[str, ...] = ()

    @functools.cached_property
    def _talk_by_id(self) -> dict[str, SmallTalk]:
        return {t.id: t for t in self.smalltalk}

    def talk(self, talk_id: str) -> SmallTalk:
        """The small-talk entry `talk_id`; one with no phrases when the campaign has none by that name."""
        return self._talk_by_id.get(talk_id) or SmallTalk(talk_id, {})


@dataclass(frozen=True)
class Intent:
    """A command a message asks for when each group has one of its words ("combien" + "signé" → /compteur).

    `run`: the command answers the message (live figures); otherwise it is offered as a choice.
    A word ending in `*` matches every word it begins.
    """

    command: str  # a command name, or "" when the intent stands for a FAQ entry (`entry`)
    groups: tuple[tuple[str, ...], ...]
    run: bool
    unless: tuple[str, ...] = ()  # words that make the message about something else
    entry: str = ""  # a FAQ entry answered instead of running a command ("what does it ask" → all demands)
    window: int = 0  # when set: the groups' words appear in order, each at most this many words after the last
    args: str = ""  # what the command is run with ("english please" → /langue en)
    alone: bool = False  # the message is only the groups' words and fillers ("english", "anglais stp")


@dataclass(frozen=True)
class Content:
    folder: Path
    campaign: Campaign
    petition: Petition
    topics: tuple[Topic, ...]
    faq: tuple[FaqEntry, ...]
    messages: Mapping[str, Mapping[str, str]] = field(repr=False)
    chat: ChatLexicon = field(default_factory=lambda: ChatLexicon({}, (), ()))
    replies: ReplyWords = field(default_factory=ReplyWords)  # how typed answers are read (replies.toml)

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        """Values still to be filled in: `petition-bot check` names each one."""
        return self.campaign.placeholders

    def template(self, lang: str, key: str) -> str:
        """A user-facing message template in the user's language (French when unknown)."""
        return self.messages[lang if lang in self.messages else "fr"][key]

    def rich(self, lang: str, key: str, **values: object) -> Rich:
        """A message in `lang` with `values` inserted as plain text (never read as markup)."""
        return render_template(self.template(lang, key), **values)

    def faq_entry(self, entry_id: str) -> FaqEntry | None:
        for entry in self.faq:
            if entry.id == entry_id:
                return entry
        return None

    def standing_for(self, command: str) -> tuple[str, ...]:
        """The FAQ entry a command's reply stands for, as `Context.answered`: "and then?" after /petition."""
        return tuple(entry.id for entry in self.faq if entry.command == command)[:1]


class _Reader:
    """Typed access to one parsed TOML file that reports the exact key on failure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ContentError(path, "-", "file is missing") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ContentError(path, "-", f"not valid TOML ({exc})") from None

    def get(self, table: Mapping[str, Any], key: str, kind: type, where: str = "") -> Any:
        full = f"{where}.{key}" if where else key
        if key not in table:
            raise ContentError(self.path, full, "missing")
        value = table[key]
        if kind is str and not (isinstance(value, str) and value.strip()):
            raise ContentError(self.path, full, "must be a non-empty string")
        if kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
            raise ContentError(self.path, full, "must be an integer")
        if kind is list and not isinstance(value, list):
            raise ContentError(self.path, full, "must be a list")
        if kind is dict and not isinstance(value, dict):
            raise ContentError(self.path, full, "must be a table")
        if kind is dt.date and not (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            raise ContentError(self.path, full, "must be a date (YYYY-MM-DD)")
        return value

    def filled(self, table: Mapping[str, Any], key: str, where: str, found: list[Placeholder]) -> str | None:
        """A string, or None when the content marks it `{ placeholder = "…" }` (recorded in `found`)."""
        value = table.get(key)
        if isinstance(value, dict) and set(value) == {"placeholder"}:
            what = self.get(value, "placeholder", str, f"{where}.{key}")
            found.append(Placeholder(self.path.name, f"{where}.{key}", what))
            return None
        return str(self.get(table, key, str, where))

    def by_language(self, table: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> ByLanguage:
        """`key_<lang>` for each language (`key` alone also names the first one's); with `optional`, a
        missing translation falls back to the first language's text."""
        texts: dict[str, str] = {}
        for lang in LANGUAGES:
            name = f"{key}_{lang}"
            if name not in table and lang == TEXT_LANGUAGE and key in table:
                name = key
            if name not in table and optional and lang != TEXT_LANGUAGE:
                texts[lang] = texts[TEXT_LANGUAGE]
                continue
            texts[lang] = self.get(table, name, str, where)
        return texts

    def strings(self, table: Mapping[str, Any], key: str, where: str = "") -> tuple[str, ...]:
        values = self.get(table, key, list, where)
        for i, value in enumerate(values):
            if not (isinstance(value, str) and value.strip()):
                raise ContentError(self.path, f"{where}.{key}[{i}]", "must be a non-empty string")
        return tuple(values)

    def tables(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        items = self.get(self.data, key, list)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ContentError(self.path, f"{key}[{i}]", "must be a table")
            out.append((f"{key}[{i}]", item))
        return out


def _unique(path: Path, where: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ContentError(path, where, f"id {i!r} is used twice")
        seen.add(i)


def _load_campaign(folder: Path) -> Campaign:
    r = _Reader(folder / "campaign.toml")
    c = r.get(r.data, "campaign", dict)
    m = r.get(r.data, "milestones", dict)
    s = r.get(r.data, "count_source", dict)
    milestones = r.get(m, "list", list, "milestones")
    if not milestones or not all(isinstance(x, int) and x > 0 for x in milestones):
        raise ContentError(r.path, "milestones.list", "must be a list of positive integers")
    if list(milestones) != sorted(set(milestones)):
        raise ContentError(r.path, "milestones.list", "must be increasing")
    synonyms = tuple(
        r.strings({"group": g}, "group", f"synonyms[{i}]") for i, g in enumerate(r.get(r.data, "synonyms", list))
    )
    bot_name = r.get(c, "bot_name", dict, "campaign")
    placeholders: list[Placeholder] = []
    controller, contact, petition_url = (
        r.filled(c, key, "campaign", placeholders) for key in ("controller", "contact", "petition_url")
    )
    return Campaign(
        slug=r.get(c, "slug", str, "campaign"),
        bot_name={lang: r.get(bot_name, lang, str, "campaign.bot_name") for lang in LANGUAGES},
        controller=controller,
        contact=contact,
        petition_url=petition_url,
        consent_version=r.get(c, "consent_version", str, "campaign"),
        end_date=r.get(c, "end_date", dt.date, "campaign"),
        retention_days=r.get(c, "retention_days", int, "campaign"),
        milestones=tuple(milestones),
        milestone_step_after=r.get(m, "step_after", int, "milestones"),
        count_source_url=str(s.get("url", "")),
        count_source_pattern=str(s.get("pattern", "")),
        synonyms=synonyms,
        placeholders=tuple(placeholders),
    )


def _load_petition(folder: Path) -> Petition:
    r = _Reader(folder / "petition.toml")
    p = r.get(r.data, "petition", dict)
    paragraphs = tuple(
        Paragraph(id=r.get(t, "id", str, w), text=r.get(t, "text", str, w)) for w, t in r.tables("paragraph")
    )
    demands = tuple(
        Demand(
            id=r.get(t, "id", str, w),
            number=r.get(t, "number", int, w),
            text=r.get(t, "text", str, w),
            short=r.by_language(t, "short", w),
        )
        for w, t in r.tables("demand")
    )
    chronology = tuple(
        ChronologyEntry(
            id=r.get(t, "id", str, w),
            date=r.by_language(t, "date", w, optional=True),
            sort_key=r.get(t, "sort_key", str, w),
            text=r.by_language(t, "text", w),
        )
        for w, t in r.tables("chronology")
    )
    ids = [x.id for x in paragraphs] + [x.id for x in demands] + [x.id for x in chronology]
    _unique(r.path, "paragraph/demand/chronology", ids)
    if not paragraphs or not demands or not chronology:
        raise ContentError(r.path, "paragraph/demand/chronology", "each needs at least one entry")
    return Petition(
        title=r.get(p, "title", str, "petition"),
        published_count=r.get(p, "published_count", int, "petition"),
        published_count_date=(
            r.get(p, "published_count_date", dt.date, "petition") if "published_count_date" in p else None
        ),
        paragraphs=paragraphs,
        demands_intro=r.get(p, "demands_intro", str, "petition"),
        demands=demands,
        chronology_title=r.by_language(p, "chronology_title", "petition", optional=True),
        chronology=chronology,
        summary={
            lang: "" if lang == TEXT_LANGUAGE else r.get(p, f"summary_{lang}", str, "petition") for lang in LANGUAGES
        },
    )


def _load_faq(folder: Path, petition: Petition) -> tuple[tuple[Topic, ...], tuple[FaqEntry, ...]]:
    r = _Reader(folder / "faq.toml")
    topics = []
    for w, t in r.tables("topic"):
        label = r.get(t, "label", dict, w)
        topics.append(
            Topic(r.get(t, "id", str, w), {lang: r.get(label, lang, str, f"{w}.label") for lang in LANGUAGES})
        )
    topic_ids = {t.id for t in topics}
    entries = []
    for w, t in r.tables("faq"):
        topic = r.get(t, "topic", str, w)
        if topic not in topic_ids:
            raise ContentError(r.path, f"{w}.topic", f"unknown topic {topic!r}")
        sources = r.strings(t, "sources", w)
        if not sources:
            raise ContentError(r.path, f"{w}.sources", "name at least one passage the answer comes from")
        for s in sources:
            if petition.passage(s) is None and s not in SPECIAL_SOURCES:
                raise ContentError(r.path, f"{w}.sources", f"unknown passage {s!r}")
        entries.append(
            FaqEntry(
                id=r.get(t, "id", str, w),
                topic=topic,
                sources=sources,
                question=r.by_language(t, "question", w),
                paraphrases={lang: r.strings(t, f"paraphrases_{lang}", w) for lang in LANGUAGES},
                answer=r.by_language(t, "answer", w),
                command=r.get(t, "command", str, w) if "command" in t else None,
                offer=r.get(t, "offer", str, w) if "offer" in t else None,
            )
        )
    _unique(r.path, "faq", [e.id for e in entries])
    return tuple(topics), tuple(entries)


def _load_replies(folder: Path) -> ReplyWords:
    """The yes, no and question words of `replies.toml`."""
    r = _Reader(folder / "replies.toml")
    yes, no, starts = (r.strings(r.data, key) for key in ("yes", "no", "question_starts"))
    table = r.get(r.data, "aliases", dict)
    aliases = {name: r.strings(table, name, "aliases") for name in table}
    asking = r.strings(r.data, "question_words") if "question_words" in r.data else ()
    helping = r.strings(r.data, "step_help") if "step_help" in r.data else ()
    leads = r.strings(r.data, "name_leads") if "name_leads" in r.data else ()
    pauses = r.strings(r.data, "pauses") if "pauses" in r.data else ()
    corrections = r.strings(r.data, "corrections") if "corrections" in r.data else ()
    courtesies = r.strings(r.data, "courtesies") if "courtesies" in r.data else ()
    openers = r.strings(r.data, "name_openers") if "name_openers" in r.data else ()
    following = r.strings(r.data, "follow_up_starts") if "follow_up_starts" in r.data else ()
    what_if = r.strings(r.data, "what_if_starts") if "what_if_starts" in r.data else ()
    words = ReplyWords.of(
        yes, no, starts, aliases, asking, helping, leads, pauses, corrections, courtesies, openers, following, what_if
    )
    both = sorted(words.yes & words.no)
    if both:
        raise ContentError(r.path, "yes/no", f"{both[0]!r} cannot mean both yes and no")
    return words


def _load_chat(folder: Path) -> ChatLexicon:
    """`chat.toml`: optional; without it questions are read as written."""
    path = folder / "chat.toml"
    if not path.exists():
        return ChatLexicon({}, (), ())
    r = _Reader(path)
    table = r.get(r.data, "replacements", dict)
    replacements = {key: r.get(table, key, str, "replacements") for key in table}
    smalltalk = []
    for w, t in r.tables("smalltalk"):
        phrases = {lang: r.strings(t, f"phrases_{lang}", w) for lang in LANGUAGES}
        entry = r.get(t, "entry", str, w) if "entry" in t else ""
        alone, quiet, courtesy = (r.get(t, k, bool, w) if k in t else False for k in ("alone", "quiet", "courtesy"))
        follows = r.get(t, "follows", str, w) if "follows" in t else ""
        if follows not in FOLLOWS:
            raise ContentError(r.path, f"{w}.follows", f"must be one of {', '.join(FOLLOWS)}")
        smalltalk.append(SmallTalk(r.get(t, "id", str, w), phrases, entry, alone, follows, quiet, courtesy))
    _unique(r.path, "smalltalk", [x.id for x in smalltalk])
    actions = []
    for w, t in r.tables("action") if "action" in r.data else ():
        phrases = {lang: r.strings(t, f"phrases_{lang}", w) for lang in LANGUAGES}
        actions.append(SmallTalk(r.get(t, "command", str, w), phrases))
    intents = []
    for w, t in r.tables("intent") if "intent" in r.data else ():
        groups = r.get(t, "words", list, w)
        if not groups or not all(isinstance(g, list) and g and all(isinstance(x, str) for x in g) for g in groups):
            raise ContentError(r.path, f"{w}.words", "must be a non-empty list of non-empty lists of words")
        run = t.get("run", False)
        if not isinstance(run, bool):
            raise ContentError(r.path, f"{w}.run", "must be true or false")
        unless = r.strings(t, "unless", w) if "unless" in t else ()
        if ("command" in t) == ("entry" in t):
            raise ContentError(r.path, w, "needs either `command` or `entry`")
        command = r.get(t, "command", str, w) if "command" in t else ""
        entry = r.get(t, "entry", str, w) if "entry" in t else ""
        window = t.get("window", 0)
        if not isinstance(window, int) or window < 0:
            raise ContentError(r.path, f"{w}.window", "must be a whole number of words")
        args = r.get(t, "args", str, w) if "args" in t else ""
        alone = t.get("alone", False)
        if not isinstance(alone, bool):
            raise ContentError(r.path, f"{w}.alone", "must be true or false")
        intents.append(
            Intent(command, tuple(tuple(g) for g in groups), run or bool(entry), unless, entry, window, args, alone)
        )
    off_topic = r.strings(r.data, "off_topic") if "off_topic" in r.data else ()
    insults = r.strings(r.data, "insults") if "insults" in r.data else ()
    interrupting = r.strings(r.data, "interrupting") if "interrupting" in r.data else ()
    other_causes = r.strings(r.data, "other_causes") if "other_causes" in r.data else ()
    other_purposes = r.strings(r.data, "other_purposes") if "other_purposes" in r.data else ()
    purpose_words = r.strings(r.data, "purpose_words") if "purpose_words" in r.data else ()
    event_words = r.strings(r.data, "event_words") if "event_words" in r.data else ()
    causes_before = r.strings(r.data, "causes_before") if "causes_before" in r.data else ()
    cause_bounds = r.strings(r.data, "cause_bounds") if "cause_bounds" in r.data else ()
    return ChatLexicon(
        replacements,
        r.strings(r.data, "fillers"),
        tuple(smalltalk),
        tuple(actions),
        tuple(intents),
        off_topic,
        other_causes,
        other_purposes,
        purpose_words,
        event_words,
        causes_before,
        cause_bounds,
        insults,
        interrupting,
    )


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _load_message_file(path: Path, messages: dict[str, dict[str, str]]) -> None:
    """One feature's messages; each key exists in both languages with the same placeholders."""
    r = _Reader(path)
    found: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        table = r.get(r.data, lang, dict)
        found[lang] = {}
        for key in table:
            value = r.get(table, key, str, lang)
            try:
                _placeholders(value)
            except ValueError as exc:
                raise ContentError(r.path, f"{lang}.{key}", f"broken placeholder ({exc})") from None
            if key in messages[lang]:
                raise ContentError(r.path, f"{lang}.{key}", "already defined in another messages file")
            found[lang][key] = value
    fr, en = found["fr"], found["en"]
    for key in sorted(set(fr) ^ set(en)):
        missing = "en" if key in fr else "fr"
        raise ContentError(r.path, f"{missing}.{key}", "missing (every message needs French and English)")
    for key in fr:
        if _placeholders(fr[key]) != _placeholders(en[key]):
            raise ContentError(r.path, f"en.{key}", "placeholders differ from the French text")
    for lang in LANGUAGES:
        messages[lang].update(found[lang])


def _load_messages(folder: Path) -> dict[str, dict[str, str]]:
    """All `messages/*.toml` files: one per feature, so features never edit the same file."""
    files = sorted((folder / "messages").glob("*.toml"))
    if not files:
        raise ContentError(folder / "messages", "-", "no messages/*.toml file found")
    messages: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for path in files:
        _load_message_file(path, messages)
    return messages


def load_content(folder: Path, required_messages: Mapping[str, str] | None = None) -> Content:
    """Load and validate a campaign folder.

    `required_messages`: the keys the code uses, each with the messages file it belongs in
    (`bot/messages.py`); a missing one is an error naming that file and the key. Each small-talk
    entry of `chat.toml` needs its reply, `smalltalk_<id>`, in `messages/answers.toml`, unless it
    names a FAQ `entry` to answer instead.
    """
    if not folder.is_dir():
        raise ContentError(folder, "CAMPAIGN", "campaign folder not found")
    campaign = _load_campaign(folder)
    petition = _load_petition(folder)
    topics, faq = _load_faq(folder, petition)
    messages = _load_messages(folder)
    replies = _load_replies(folder)
    chat = _load_chat(folder)
    required = dict(required_messages or {})
    required.update({f"{SMALLTALK_PREFIX}{talk.id}": "answers" for talk in chat.smalltalk if not talk.entry})
    for key, file in sorted(required.items()):
        if key not in messages[TEXT_LANGUAGE]:
            path = folder / "messages" / f"{file}.toml"
            raise ContentError(path, f"{TEXT_LANGUAGE}.{key}", "missing (the bot uses this message)")
    entries = {e.id for e in faq}
    for kind, named in (("intent", chat.intents), ("smalltalk", chat.smalltalk)):
        for item in named:
            if item.entry and item.entry not in entries:
                raise ContentError(folder / "chat.toml", f"{kind}.entry = {item.entry!r}", "no FAQ entry has this id")
    return Content(folder, campaign, petition, topics, faq, messages, chat, replies)
