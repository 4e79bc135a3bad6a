"""Every command, choice and dialogue the bot knows, declared in one place, in menu order.

To add a command: write an `async def` in the module of its feature, then add one
line here with its French and English names and the message key of its menu line.
"""

from __future__ import annotations

from bot.context import Context
from bot.router import Routes
from handlers import admin, fallbacks, info, official_count, privacy, questions, signing, subscriptions


def build_routes() -> Routes:
    routes = Routes(
        free_text=questions.answer_question,
        unknown_command=fallbacks.unknown_command,
        expired_choice=fallbacks.expired_choice,
        flooded=fallbacks.flooded,
        failure=fallbacks.failure,
    )
    routes.command("start", handler=info.welcome, menu="menu_start")
    routes.command("aide", "help", handler=info.show_help, menu="menu_help")
    routes.command("petition", handler=info.show_petition, menu="menu_petition")
    routes.command("chronologie", "timeline", handler=info.show_timeline, menu="menu_timeline")
    routes.command("faq", handler=info.show_faq, menu="menu_faq")
    routes.command("compteur", "count", handler=info.show_count, menu="menu_count")
    routes.command("signer", "sign", handler=signing.start_signing, menu="menu_sign")
    routes.command("retirer", "unsign", handler=privacy.start_withdrawal, menu="menu_unsign")
    routes.command("mesdonnees", "mydata", handler=privacy.show_my_data, menu="menu_mydata")
    routes.command("oublier", "forget", handler=privacy.start_forgetting, menu="menu_forget")
    routes.command("suivre", "follow", handler=privacy.follow, menu="menu_follow")
    routes.command("nepassuivre", "unfollow", handler=privacy.unfollow, menu="menu_unfollow")
    routes.command("confidentialite", "privacy", handler=privacy.show_privacy, menu="menu_privacy")
    routes.command("langue", "language", handler=info.choose_language, menu="menu_language")
    routes.command("annuler", "cancel", handler=fallbacks.cancel, menu="menu_cancel")
    routes.command("abonner", "subscribe", handler=subscriptions.subscribe, menu="menu_subscribe")
    routes.command("desabonner", "unsubscribe", handler=subscriptions.unsubscribe, menu="menu_unsubscribe")
    routes.command("diffuser", "broadcast", handler=admin.start_broadcast, menu="menu_broadcast", admin=True)
    routes.command("programmer", "schedule", handler=admin.schedule_broadcast, menu="menu_schedule", admin=True)
    routes.command("diffusions", "broadcasts", handler=admin.list_broadcasts, menu="menu_broadcasts", admin=True)
    routes.command("annuler_diffusion", "cancel_broadcast", handler=admin.cancel_broadcast, admin=True)
    routes.command("compteur_officiel", "official_count", handler=official_count.set_official_count, admin=True)
    routes.flow(admin.BroadcastFlow())
    routes.flow(official_count.OfficialCountFlow())
    routes.flow(signing.SigningFlow())
    routes.flow(privacy.WithdrawalFlow())
    routes.flow(privacy.ForgetFlow())

    async def run_command(ctx: Context) -> None:
        """A menu choice that stands for a command (`cmd:<name>`)."""
        command = next((c for c in routes.commands if ctx.args in c.names), None)
        if command is None or (command.admin and not ctx.is_admin):
            await fallbacks.expired_choice(ctx)
            return
        ctx.args = ""
        await command.handler(ctx)

    routes.choice("cmd", run_command)
    routes.choice("faqt", info.show_faq_topic)
    routes.choice("faq", questions.faq_pressed)
    routes.choice("lang", info.language_pressed)
    routes.choice("news", signing.news_pressed)
    return routes
