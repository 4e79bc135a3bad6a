"""Every command, choice and dialogue the bot knows, declared in one place, in menu order.

To add a command: write an `async def` in the module of its feature, then add one
line here with its French and English names and the message key of its menu line.
"""

from __future__ import annotations

import functools

from bot.router import GROUP, PRIVATE, Routes
from handlers import (
    admin,
    digest_preview,
    fallbacks,
    info,
    official_count,
    passages,
    privacy,
    questions,
    signing,
    subscriptions,
)


def build_routes() -> Routes:
    routes = Routes(
        free_text=questions.answer_question,
        question=questions.answer_question,
        unknown_command=fallbacks.unknown_command,
        expired_choice=fallbacks.expired_choice,
        flooded=fallbacks.flooded,
        failure=fallbacks.failure,
    )
    routes.command("start", handler=info.welcome, menu="menu_start")
    routes.command("aide", "help", handler=info.show_help, menu="menu_help")
    routes.command("petition", handler=info.show_petition, menu="menu_petition")
    routes.command("chronologie", "timeline", handler=info.show_timeline, menu="menu_timeline")
    routes.command("faq", handler=questions.show_faq, menu="menu_faq")
    routes.command("compteur", "count", handler=info.show_count, menu="menu_count")
    # `opens`: the dialogue the command opens, so asking for it again inside that dialogue does not restart it.
    sign, unsign, forget = signing.FLOW, privacy.UNSIGN, privacy.FORGET
    routes.command("signer", "sign", handler=signing.start_signing, menu="menu_sign", where=PRIVATE, opens=sign)
    routes.command(
        "retirer", "unsign", handler=privacy.start_withdrawal, menu="menu_unsign", where=PRIVATE, opens=unsign
    )
    routes.command("statut", "status", handler=privacy.show_status, menu="menu_status", where=PRIVATE)
    routes.command("mesdonnees", "mydata", handler=privacy.show_my_data, menu="menu_mydata", where=PRIVATE)
    routes.command(
        "oublier", "forget", handler=privacy.start_forgetting, menu="menu_forget", where=PRIVATE, opens=forget
    )
    routes.command("suivre", "follow", handler=privacy.follow, menu="menu_follow", where=PRIVATE)
    routes.command("nepassuivre", "unfollow", handler=privacy.unfollow, menu="menu_unfollow", where=PRIVATE)
    routes.command("confidentialite", "privacy", handler=privacy.show_privacy, menu="menu_privacy")
    routes.command("langue", "language", handler=info.choose_language, menu="menu_language")
    routes.command("annuler", "cancel", handler=fallbacks.cancel, menu="menu_cancel", where=PRIVATE)
    routes.command("abonner", "subscribe", handler=subscriptions.subscribe, menu="menu_subscribe", where=GROUP)
    routes.command("desabonner", "unsubscribe", handler=subscriptions.unsubscribe, menu="menu_unsubscribe", where=GROUP)
    admin_command = functools.partial(routes.command, admin=True, where=PRIVATE)
    admin_command("diffuser", "broadcast", handler=admin.start_broadcast, menu="menu_broadcast")
    admin_command("programmer", "schedule", handler=admin.schedule_broadcast, menu="menu_schedule")
    admin_command("diffusions", "broadcasts", handler=admin.list_broadcasts, menu="menu_broadcasts")
    admin_command("annuler_diffusion", "cancel_broadcast", handler=admin.cancel_broadcast, menu="menu_cancel_broadcast")
    admin_command(
        "compteur_officiel", "official_count", handler=official_count.set_official_count, menu="menu_official_count"
    )
    admin_command("point", "digest", handler=digest_preview.show_digest, menu="menu_digest")
    routes.flow(admin.BROADCAST)
    routes.flow(official_count.OFFICIAL_COUNT)
    routes.flow(signing.SIGNING)
    routes.flow(privacy.WITHDRAWAL)
    routes.flow(privacy.FORGETTING)
    routes.choice(info.COMMAND)
    routes.choice(questions.FAQ_TOPIC)
    routes.choice(passages.ENTRY)
    routes.choice(info.LANGUAGE)
    routes.choice(digest_preview.SEND_NOW)
    return routes
