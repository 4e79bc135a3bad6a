"""The content contract: every message key the code uses, checked when a campaign's content loads.

A campaign's `messages/*.toml` must hold each key below in every language, so a
second campaign missing one fails at start-up (and in `petition-bot check`) with
the file and the key named, never in front of a supporter. Keys written out in the
code are listed by the messages file they belong in; keys the code builds at run
time are listed with the values that build them. A small-talk reply
(`smalltalk_<id>`) is required for each `[[smalltalk]]` of the campaign's
`chat.toml`, which the content loader checks itself. `tests/test_content_contract.py`
scans the code so that a key used there and missing here fails the suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.content import LANGUAGES
from storage import broadcasts
from storage.subscriptions import AUDIENCES, KINDS


def _keys(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Keys written out in the code, by the messages file of the shipped campaign that holds them.
WRITTEN: Mapping[str, tuple[str, ...]] = {
    "answers": _keys(
        """
        action_offer answer_above answer_sources_separator answer_unsure decline_not_in_petition decline_out_of_scope
        decline_out_of_scope_aside did_you_mean followup_nearby followup_source
        """
    ),
    "broadcast": _keys(
        """
        admin_private_only broadcast_abandoned broadcast_audience_prompt broadcast_bad_markup broadcast_confirm
        broadcast_confirm_at broadcast_empty broadcast_no_recipients broadcast_preview_header broadcast_progress
        broadcast_progress_done broadcast_scheduled broadcast_started broadcast_text_prompt broadcast_too_long
        broadcasts_line broadcasts_none broadcasts_title cancel_broadcast_done cancel_broadcast_not_active
        cancel_broadcast_unknown cancel_broadcast_usage chart_milestone chart_title chart_total
        choice_cancel_broadcast choice_send digest kinds_and markup_bad_url markup_broken_link
        markup_unclosed_bold markup_unclosed_italic menu_broadcast menu_broadcasts menu_cancel_broadcast
        menu_official_count menu_schedule menu_subscribe menu_unsubscribe milestone_reached not_subscribed
        subscribe_group_only subscribe_not_admin subscribe_unknown_kind subscribed unsubscribed
        """
    ),
    "signing": _keys(
        """
        anonymous_name choice_news_no choice_news_yes choice_sign_anonymous choice_sign_cancel
        choice_sign_confirm choice_sign_display choice_sign_other choice_unsign follow_already follow_in_private
        follow_on menu_sign news_declined rights_in_private sign_already sign_cancelled sign_confirm_reminder
        sign_failed sign_in_private sign_intro sign_name_address sign_name_command sign_name_digits
        sign_confirm_help sign_name_empty sign_name_help sign_name_no_letters sign_name_prompt sign_name_too_long
        sign_news_help sign_news_question sign_news_reminder sign_receipt sign_share sign_share_no_link sign_summary
        sign_type_name
        """
    ),
    "core": _keys(
        """
        answer_related answer_source cancelled choice_count choice_faq choice_help choice_petition choice_sign
        choice_timeline console_banner count count_official_at_publication count_official_dated dialogue_resume
        dialogue_step_help dialogue_unclear empty_message expired_choice failure faq_menu faq_topic faq_unknown
        flooded help help_admin help_group language_prompt language_set language_unknown menu_cancel menu_count
        menu_faq menu_help menu_language menu_petition menu_start menu_timeline nothing_to_cancel
        petition_demands_intro petition_footer petition_title question_too_long source_bot source_chronology
        paragraph_label source_count source_demand source_demands source_numbers_last source_paragraph source_paragraphs
        timeline_entry timeline_title unknown_command unknown_command_typo welcome
        """
    ),
    "announcements": _keys(
        """
        audience_no_platform audience_platform_running audience_platform_stopped choice_digest_send_now
        digest_already_sent digest_preview_groups digest_preview_header digest_preview_no_groups
        digest_preview_sent_today digest_sent_now menu_digest milestone_told_later milestone_told_nobody
        milestone_told_now
        """
    ),
    "privacy": _keys(
        """
        choice_forget_yes choice_keep choice_keep_all choice_unsign_yes follow_not_following follow_off
        forget_confirm forget_done forget_item_contact forget_item_dialogue forget_item_language
        forget_item_signature forget_nothing forget_reminder menu_follow menu_forget menu_mydata menu_privacy
        menu_unfollow menu_unsign mydata mydata_contact mydata_contact_active mydata_contact_inactive
        mydata_deliveries mydata_dialogue mydata_file_name mydata_language mydata_no_contact mydata_no_language
        mydata_no_signature mydata_nothing mydata_pseudonym mydata_signature privacy_contact privacy_contact_unpublished
        privacy_controller privacy_controller_unnamed privacy_notice privacy_other_requests
        privacy_other_requests_unpublished rights_failed rights_kept status_more status_news_off status_news_on
        status_news_paused status_not_signed status_nothing status_signed menu_status unsign_confirm unsign_done
        unsign_done_again unsign_kept unsign_news_still_on unsign_not_signed unsign_reminder
        """
    ),
    "admin": _keys(
        """
        choice_official_count_cancel choice_official_count_save official_count_cancelled
        official_count_change_down official_count_change_new official_count_change_up
        official_count_changed_meanwhile official_count_confirm official_count_effect_announce
        official_count_effect_crossed official_count_effect_none official_count_effect_withdraw
        official_count_press_choice official_count_set official_count_unchanged official_count_withdrawn
        schedule_no_such_date schedule_past schedule_skipped schedule_too_far schedule_twice schedule_unparsable
        """
    ),
    "console": _keys(
        """
        console_banner_group console_banner_member console_banner_platform console_from_campaign_group
        console_from_campaign_other console_from_campaign_private console_image_saved console_no_group
        console_now_group console_now_private
        """
    ),
    "matrix": _keys(
        """
        matrix_choice_hint matrix_choice_hint_yes_no matrix_undecryptable
        """
    ),
}

# What a group is told when personal data must go to a private chat: with a link to one, or `<key>_no_link`
# on a platform that has none (handlers/signing.py `tell_to_write_privately`).
_PRIVATE_CHAT_KEYS = ("sign_in_private", "rights_in_private", "follow_in_private")
# `/compteur_officiel`'s refusals (bot/arguments.py `parse_count`), each answered as `official_<key>`.
COUNT_REFUSALS = ("count_usage", "count_not_ascii", "count_bad_grouping", "count_not_a_number", "count_too_large")
# How /diffusions shows a broadcast's state: an active one is "scheduled" or "sending".
SHOWN_STATUSES = ("scheduled", "sending", broadcasts.DONE, broadcasts.CANCELLED)


def _prefixed(prefix: str, values: Iterable[str]) -> tuple[str, ...]:
    return tuple(prefix + value for value in values)


# Keys built at run time, by the messages file that holds them.
BUILT: Mapping[str, tuple[str, ...]] = {
    "core": _prefixed("choice_language_", LANGUAGES),  # /langue offers each language by its name
    "broadcast": (
        *_prefixed("audience_", AUDIENCES),  # the audience choices of /diffuser
        *_prefixed("recipients_", AUDIENCES),  # and how the preview names them
        *_prefixed("kind_", KINDS),  # what a group subscribed to
        *_prefixed("broadcast_kind_", (broadcasts.MESSAGE, broadcasts.MILESTONE, broadcasts.DIGEST)),
        *_prefixed("broadcast_status_", SHOWN_STATUSES),
    ),
    "signing": tuple(f"{key}_no_link" for key in _PRIVATE_CHAT_KEYS),
    "admin": _prefixed("official_", COUNT_REFUSALS),
}


def required() -> dict[str, str]:
    """Every key the code uses, with the messages file (without `.toml`) it belongs in."""
    found: dict[str, str] = {}
    for table in (WRITTEN, BUILT):
        for file, keys in table.items():
            for key in keys:
                found.setdefault(key, file)
    return found
