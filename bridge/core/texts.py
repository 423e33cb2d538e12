"""Every operator- and customer-facing text, in Russian and English.

`text(language, key, **values)` formats one entry. Values that come from a customer or an
operator (names, message text) must be HTML-escaped by the caller before they are passed in:
the templates themselves are HTML (Telegram `parse_mode=HTML`), so they may hold tags.
Texts meant for plain-text places (alerts of answerCallbackQuery, topic names, customer
platforms without markup) are listed in `PLAIN_KEYS` and carry no tags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

LANGUAGES: Final = ("ru", "en")

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        # the card in the Incoming feed
        "card.new": "🆕 <b>{name}</b> · {source}\n{when} · #{number}",
        "card.accepted": "✅ <b>{name}</b> · {source}\n{when} · #{number}\nAccepted by {operator}",
        "card.closed": "☑️ <b>{name}</b> · {source}\n{when} · #{number}\nClosed",
        "card.more": "…and {count} more",
        "card.open_link": "Open conversation",
        "button.accept": "Accept",
        "attachment.photo": "[photo]",
        "attachment.document": "[file]",
        "attachment.voice": "[voice message]",
        "attachment.audio": "[audio]",
        "attachment.video": "[video]",
        "attachment.sticker": "[sticker]",
        "attachment.location": "[location]",
        "attachment.contact": "[contact]",
        "attachment.link": "[link]",
        # alerts (plain text, ≤ 200 characters)
        "alert.not_operator": "Only operators of this group can accept conversations.",
        "alert.already_accepted": "Already accepted by {operator}.",
        "alert.accepted": "The conversation is yours.",
        "alert.closed": "This conversation is already closed.",
        "alert.transfer_done": "Transferred to {operator}.",
        "alert.unknown_operator": "That operator is not an operator of this group.",
        # notices in the conversation's place
        "place.header": "💬 <b>{name}</b> · {source} · #{number}\nAccepted by {operator}",
        "place.previous": "Previous conversation: #{number}",
        "place.customer_edit": "✏️ The customer edited a message:\n{text}",
        # the outbox alarm (outbox.alarm_after_seconds): deliveries that keep failing
        "alarm.stuck": "⏳ Messages to {platform} have not gone out for {minutes} min "
        "({error}). The bridge keeps trying; they will go out in order.",
        "alarm.recovered": "✅ Messages to {platform} are going out again (after {minutes} min).",
        "place.delivery_failed": "⚠️ Not delivered to the customer: {reason}",
        "place.delivery_failed_unknown": "the platform reported a failure",
        "place.customer_unreachable": "🚫 The customer can no longer be reached{reason}: "
        "replies won't arrive.",
        "place.customer_reachable": "✅ The customer can receive messages again.",
        "place.data_deleted": "🗑 The customer's data was deleted on request: their messages, "
        "files and profile are gone; replies can no longer reach them.",
        "forget.reason": "data deleted on request",
        "place.customer_blocked_bot": "⛔ The customer blocked the bot: "
        "replies cannot reach them until they unblock it.",
        "place.customer_unblocked_bot": "✅ The customer unblocked the bot: "
        "replies reach them again.",
        "place.reply_not_sent_unreachable": "🚫 Not sent: the customer can no longer be "
        "reached{reason}. The reply is kept; replies go out again once the customer can "
        "receive messages.",
        "place.note_hint": "🔒 {operator}, your messages here are internal notes: "
        "only the operator who accepted the conversation talks to the customer.",
        "place.topic_recreated": "The previous topic was unavailable; "
        "the conversation goes on here.",
        "place.closed": "☑️ Conversation #{number} closed by {operator}.",
        "place.closed_inactive": "☑️ Conversation #{number} closed for inactivity.",
        "place.released": "↩️ {operator} released conversation #{number}; it is back in the feed.",
        "place.force_released": "⚠️ {admin} took conversation #{number} back from {operator}; "
        "it is in the feed again.",
        "place.history_wait": "⏳ /history again in {seconds} s (it is limited so the group's "
        "posting budget stays for customers).",
        "place.transferred": "➡️ Conversation #{number} transferred from {old} to {new}.",
        "place.transfer_choose": "Transfer conversation #{number} to:",
        "place.transfer_none": "There is no other operator to transfer to.",
        "place.blocked": "🚫 The customer is blocked: their messages are stored but not posted.",
        "place.unblocked": "✅ The customer is unblocked.",
        "place.history_header": "📜 History of #{number}:",
        "place.history_empty": "No messages yet.",
        "place.history_deleted": (
            "The messages of this closed conversation were deleted (on request or after the "
            "retention period)."
        ),
        "place.not_claimer": "Only {operator}, who accepted this conversation, can do that.",
        "place.not_a_conversation": "This command works inside a conversation's topic "
        "(or as a reply to a customer's message).",
        "place.customer_wrote": "<b>{name}</b>:",
        # private messages to operators
        "private.ping": "🆕 New conversation #{number} from <b>{name}</b> ({source}): {link}",
        "private.transferred": "➡️ {old} transferred conversation #{number} with <b>{name}</b> "
        "to you: {link}",
        "private.my_header": "Your open conversations ({count}):",
        "private.my_item": "#{number} · {name} · {source}{unanswered} — {link}",
        "private.my_unanswered": " · new messages",
        "private.my_none": "You have no open conversations.",
        "private.my_counters": "Waiting in the feed: {new} · yours with new messages: {mine} "
        "· total: {total}",
        "command.refused": "Only operators of this group can use this command.",
        "command.help": (
            "<b>Talker Bridge</b>\n"
            "Press <b>Accept</b> on a card to take a conversation; then write in its topic "
            "(or reply to the customer's message) and it goes to the customer.\n"
            "Messages from others there are internal notes.\n\n"
            "/close — end the conversation\n"
            "/release — give it back to the feed\n"
            "/transfer — hand it to another operator\n"
            "/history — the messages so far\n"
            "/t NAME — send the quick reply NAME as your answer; /t — list them\n"
            "/stats — the group's figures: today, 7 and 30 days\n"
            "/block, /unblock — stop or resume posting this customer's messages\n"
            "/my — your open conversations and counters\n"
            "/help — this text"
        ),
        # the dashboard
        "dashboard": "📊 <b>Inbox</b>\nNew in the feed: <b>{new}</b> | "
        "With new messages: <b>{unanswered}</b>\nTotal: <b>{total}</b>",
        # to customers (plain text)
        "customer.closed": "Thank you for reaching out! The conversation is closed; "
        "write again any time.",
        "customer.edited": "Correction: {text}",
        # the site widget's refusals, shown in the chat
        "customer.widget_busy": "We are receiving a lot of new chats right now. Your message "
        "will be sent automatically in a minute; please keep this page open.",
        "customer.widget_upload_quota": "You have sent a lot of files today. Please try again "
        "later, or describe it in a message.",
        "customer.widget_storage_full": "The chat cannot take files at the moment. Please "
        "describe it in a message, or try again later.",
        "customer.offline": "Hello! We are closed now; we will answer when we open at {opens}. "
        "Your message has reached us.",
        "customer.closed_inactive": "The conversation was closed because it was quiet for a "
        "while. Write again any time.",
        "customer.rating_ask": "How did we do? Please rate our help from 1 to 5.",
        "customer.rating_thanks": "Thank you for your rating ({stars})! If you like, add a "
        "comment in one message.",
        "customer.rating_comment_thanks": "Thank you, we have passed your comment on.",
        # issue 15: working hours, reminders, auto-close (jobs) — keys below
        "hours.card_offline": "🌙 Received outside working hours",
        "reminder.author": "⏰ Reminder",
        "reminder.accept": "⏰ Conversation #{number} from <b>{name}</b> ({source}) has waited "
        "{waited} for Accept: {link}",
        "reminder.answer": "⏰ <b>{name}</b> (#{number}, {source}) has waited {waited} for "
        "your answer: {link}",
        "reminder.answer_place": "⏰ {operator}, the customer has waited {waited} for an answer.",
        "dashboard.sla": "⏰ Past SLA: waiting for Accept <b>{accept}</b> | "
        "for an answer <b>{answer}</b>",
        # issue 15: ratings — keys below
        "place.rated": "⭐ The customer rated conversation #{number}: {stars}",
        "place.rating_comment": "💬 The customer's comment on conversation #{number}: {comment}",
        "customer.rating_reply_hint": "Reply with one number: 1 2 3 4 5",
        "customer.rating_star": "Rate {stars} of 5",
        # issue 15: quick replies and /stats — keys below
        "quick.sent": "📤 Quick reply <b>{name}</b> sent:\n{text}",
        "quick.list": "<b>Quick replies</b> (send with /t NAME):\n{items}",
        "quick.item": "<b>{name}</b> — {text}",
        "quick.none": "No quick replies are configured (the config's <code>templates:</code>).",
        "quick.unknown": "There is no quick reply <b>{name}</b>.",
        "quick.did_you_mean": "Did you mean: {names}?",
        "quick.known": "Known: {names}.",
        "quick.accept_first": "Accept the conversation first: a quick reply goes to the "
        "customer as your answer.",
        "stats.title": "📈 <b>Statistics</b> · {group} · {zone}",
        "stats.period": "<b>{label}</b>: accepted {accepted} · closed {closed} · "
        "to accept {accept} · to answer {answer} · rating {rating}",
        "stats.today": "Today",
        "stats.week": "7 days",
        "stats.month": "30 days",
        "stats.operator": "  {name}: acc {accepted} · cl {closed} · {accept} / {answer} · "
        "★ {rating}",
        "stats.no_rating": "—",
        "stats.rating": "{average} ({count})",
        "stats.none": "—",
        "stats.legend": "Times are medians: waiting for Accept (from the opening time after "
        "an inquiry outside hours), then from Accept to the first answer.",
        # issue 16: private mode — keys below
        "alert.private_start": "Start a private chat with the bot first (open it and press "
        "Start): your conversations continue there. This one stays in the feed.",
        "alert.private_no_topics": "The bot cannot open topics in private chats: its owner "
        "must switch on Threaded mode in @BotFather. The conversation stays in the feed.",
        "alert.private_target_start": "{operator} has not started a private chat with the "
        "bot yet, so the conversation cannot move there. It stays with you.",
        "topic.closed_name": "✅ {name}",
        # topic titles (plain text)
        "topic.name": "{name} · {source}",
        "guest": "Guest {number}",
    },
    "ru": {
        "card.new": "🆕 <b>{name}</b> · {source}\n{when} · #{number}",
        "card.accepted": "✅ <b>{name}</b> · {source}\n{when} · #{number}\nПринял(а): {operator}",
        "card.closed": "☑️ <b>{name}</b> · {source}\n{when} · #{number}\nЗакрыто",
        "card.more": "…и ещё {count}",
        "card.open_link": "Открыть обращение",
        "button.accept": "Принять",
        "attachment.photo": "[фото]",
        "attachment.document": "[файл]",
        "attachment.voice": "[голосовое сообщение]",
        "attachment.audio": "[аудио]",
        "attachment.video": "[видео]",
        "attachment.sticker": "[стикер]",
        "attachment.location": "[геопозиция]",
        "attachment.contact": "[контакт]",
        "attachment.link": "[ссылка]",
        "alert.not_operator": "Принимать обращения могут только операторы этой группы.",
        "alert.already_accepted": "Уже принято: {operator}.",
        "alert.accepted": "Обращение ваше.",
        "alert.closed": "Это обращение уже закрыто.",
        "alert.transfer_done": "Передано: {operator}.",
        "alert.unknown_operator": "Этот человек не оператор этой группы.",
        "place.header": "💬 <b>{name}</b> · {source} · #{number}\nПринял(а): {operator}",
        "place.previous": "Предыдущее обращение: #{number}",
        "place.customer_edit": "✏️ Клиент изменил сообщение:\n{text}",
        "alarm.stuck": "⏳ Сообщения в {platform} не уходят уже {minutes} мин "
        "({error}). Бот продолжает попытки, они уйдут по порядку.",
        "alarm.recovered": "✅ Сообщения в {platform} снова уходят (спустя {minutes} мин).",
        "place.delivery_failed": "⚠️ Не доставлено клиенту: {reason}",
        "place.delivery_failed_unknown": "платформа сообщила о сбое",
        "place.customer_unreachable": "🚫 Клиенту больше нельзя написать{reason}: "
        "ответы не дойдут.",
        "place.customer_reachable": "✅ Клиенту снова можно писать.",
        "place.data_deleted": "🗑 Данные клиента удалены по его запросу: сообщения, файлы "
        "и профиль стёрты; ответы ему больше не доставляются.",
        "forget.reason": "данные удалены по запросу",
        "place.customer_blocked_bot": "⛔ Клиент заблокировал бота: "
        "ответы не дойдут, пока он его не разблокирует.",
        "place.customer_unblocked_bot": "✅ Клиент разблокировал бота: ответы снова доходят.",
        "place.reply_not_sent_unreachable": "🚫 Не отправлено: клиенту больше нельзя "
        "написать{reason}. Ответ сохранён; ответы снова будут уходить, когда клиент сможет "
        "получать сообщения.",
        "place.note_hint": "🔒 {operator}, ваши сообщения здесь — внутренние заметки: "
        "клиенту пишет только оператор, принявший обращение.",
        "place.topic_recreated": "Прежняя тема недоступна; разговор продолжается здесь.",
        "place.closed": "☑️ Обращение #{number} закрыто: {operator}.",
        "place.closed_inactive": "☑️ Обращение #{number} закрыто: долго не было сообщений.",
        "place.released": "↩️ {operator} вернул(а) обращение #{number} в ленту.",
        "place.force_released": "⚠️ {admin} забрал(а) обращение #{number} у {operator}; "
        "оно снова в ленте.",
        "place.history_wait": "⏳ /history снова через {seconds} с (ограничено, чтобы лимит "
        "сообщений группы оставался для клиентов).",
        "place.transferred": "➡️ Обращение #{number} передано: {old} → {new}.",
        "place.transfer_choose": "Кому передать обращение #{number}?",
        "place.transfer_none": "Больше некому передать обращение.",
        "place.blocked": "🚫 Клиент заблокирован: его сообщения сохраняются, но не публикуются.",
        "place.unblocked": "✅ Клиент разблокирован.",
        "place.history_header": "📜 История #{number}:",
        "place.history_empty": "Сообщений пока нет.",
        "place.history_deleted": (
            "Сообщения этого закрытого обращения удалены (по запросу или по истечении срока "
            "хранения)."
        ),
        "place.not_claimer": "Это может сделать только {operator}, принявший(ая) обращение.",
        "place.not_a_conversation": "Эта команда работает в теме обращения "
        "(или ответом на сообщение клиента).",
        "place.customer_wrote": "<b>{name}</b>:",
        "private.ping": "🆕 Новое обращение #{number} от <b>{name}</b> ({source}): {link}",
        "private.transferred": "➡️ {old} передал(а) вам обращение #{number} "
        "с <b>{name}</b>: {link}",
        "private.my_header": "Ваши открытые обращения ({count}):",
        "private.my_item": "#{number} · {name} · {source}{unanswered} — {link}",
        "private.my_unanswered": " · новые сообщения",
        "private.my_none": "У вас нет открытых обращений.",
        "private.my_counters": "Ждут в ленте: {new} · ваши с новыми сообщениями: {mine} "
        "· всего: {total}",
        "command.refused": "Эта команда доступна только операторам этой группы.",
        "command.help": (
            "<b>Talker Bridge</b>\n"
            "Нажмите <b>Принять</b> на карточке, чтобы взять обращение; затем пишите в его "
            "теме (или ответом на сообщение клиента) — текст уйдёт клиенту.\n"
            "Сообщения остальных там — внутренние заметки.\n\n"
            "/close — закрыть обращение\n"
            "/release — вернуть его в ленту\n"
            "/transfer — передать другому оператору\n"
            "/history — сообщения обращения\n"
            "/t ИМЯ — отправить шаблон ИМЯ как ваш ответ; /t — список шаблонов\n"
            "/stats — показатели группы: сегодня, 7 и 30 дней\n"
            "/block, /unblock — не публиковать / снова публиковать сообщения клиента\n"
            "/my — ваши открытые обращения и счётчики\n"
            "/help — эта справка"
        ),
        "dashboard": "📊 <b>Обращения</b>\nНовые в ленте: <b>{new}</b> | "
        "С новыми сообщениями: <b>{unanswered}</b>\nВсего: <b>{total}</b>",
        "customer.closed": "Спасибо за обращение! Разговор завершён; пишите в любое время.",
        "customer.edited": "Исправление: {text}",
        "customer.widget_busy": "Сейчас к нам пишет очень много людей. Сообщение отправится "
        "автоматически через минуту — пожалуйста, не закрывайте страницу.",
        "customer.widget_upload_quota": "Сегодня вы уже отправили много файлов. Попробуйте "
        "позже или опишите всё в сообщении.",
        "customer.widget_storage_full": "Сейчас чат не может принять файлы. Опишите всё "
        "в сообщении или попробуйте позже.",
        "customer.offline": "Здравствуйте! Сейчас мы не работаем; ответим, когда откроемся: "
        "{opens}. Ваше сообщение получено.",
        "customer.closed_inactive": "Разговор закрыт, потому что в нём давно не было сообщений. "
        "Пишите в любое время.",
        "customer.rating_ask": "Как мы вам помогли? Оцените, пожалуйста, от 1 до 5.",
        "customer.rating_thanks": "Спасибо за оценку ({stars})! Если хотите, напишите "
        "комментарий одним сообщением.",
        "customer.rating_comment_thanks": "Спасибо, мы передали ваш комментарий.",
        # issue 15: working hours, reminders, auto-close (jobs) — keys below
        "hours.card_offline": "🌙 Получено в нерабочее время",
        "reminder.author": "⏰ Напоминание",
        "reminder.accept": "⏰ Обращение #{number} от <b>{name}</b> ({source}) ждёт принятия "
        "уже {waited}: {link}",
        "reminder.answer": "⏰ <b>{name}</b> (#{number}, {source}) ждёт вашего ответа "
        "уже {waited}: {link}",
        "reminder.answer_place": "⏰ {operator}, клиент ждёт ответа уже {waited}.",
        "dashboard.sla": "⏰ Сверх SLA: ждут принятия <b>{accept}</b> | "
        "ждут ответа <b>{answer}</b>",
        # issue 15: ratings — keys below
        "place.rated": "⭐ Клиент оценил обращение #{number}: {stars}",
        "place.rating_comment": "💬 Комментарий клиента к обращению #{number}: {comment}",
        "customer.rating_reply_hint": "Ответьте одним числом: 1 2 3 4 5",
        "customer.rating_star": "Оценка {stars} из 5",
        # issue 15: quick replies and /stats — keys below
        "quick.sent": "📤 Отправлен шаблон <b>{name}</b>:\n{text}",
        "quick.list": "<b>Шаблоны ответов</b> (отправка: /t ИМЯ):\n{items}",
        "quick.item": "<b>{name}</b> — {text}",
        "quick.none": "Шаблоны ответов не настроены (<code>templates:</code> в конфигурации).",
        "quick.unknown": "Шаблона <b>{name}</b> нет.",
        "quick.did_you_mean": "Может быть: {names}?",
        "quick.known": "Есть: {names}.",
        "quick.accept_first": "Сначала примите обращение: шаблон уходит клиенту как ваш ответ.",
        "stats.title": "📈 <b>Статистика</b> · {group} · {zone}",
        "stats.period": "<b>{label}</b>: принято {accepted} · закрыто {closed} · "
        "до принятия {accept} · до ответа {answer} · оценка {rating}",
        "stats.today": "Сегодня",
        "stats.week": "7 дней",
        "stats.month": "30 дней",
        "stats.operator": "  {name}: прин. {accepted} · закр. {closed} · {accept} / {answer} · "
        "★ {rating}",
        "stats.no_rating": "—",
        "stats.rating": "{average} ({count})",
        "stats.none": "—",
        "stats.legend": "Время — медианы: ожидание принятия (после обращения в нерабочее время — "
        "от открытия), затем от принятия до первого ответа.",
        # issue 16: private mode — keys below
        "alert.private_start": "Сначала начните личный чат с ботом (откройте его и нажмите "
        "«Старт»): ваши обращения продолжаются там. Это обращение остаётся в ленте.",
        "alert.private_no_topics": "Бот не может открывать темы в личных чатах: владелец "
        "должен включить Threaded mode в @BotFather. Обращение остаётся в ленте.",
        "alert.private_target_start": "{operator} ещё не начал(а) личный чат с ботом, туда "
        "обращение не перейдёт. Оно остаётся у вас.",
        "topic.closed_name": "✅ {name}",
        "topic.name": "{name} · {source}",
        "guest": "Гость {number}",
    },
}

#: Keys whose texts go to places without HTML (alerts, topic names, customer platforms).
PLAIN_KEYS: Final = frozenset(
    key for key in _TEXTS["en"] if key.split(".")[0] in ("alert", "customer", "topic", "guest")
)


def normalize_language(language: str | None) -> str:
    """The supported language closest to `language` ("ru-RU" → "ru"); English otherwise."""
    if language:
        short = language.strip().lower().replace("_", "-").split("-")[0]
        if short in LANGUAGES:
            return short
    return "en"


def text(language: str | None, key: str, **values: object) -> str:
    """The text `key` in `language`, formatted with `values` (already escaped where HTML)."""
    table = _TEXTS[normalize_language(language)]
    try:
        template = table[key]
    except KeyError:
        raise KeyError(f"no text {key!r}") from None
    return template.format(**values)


class CustomerTexts:
    """Customer-facing texts with the admin's overrides (`texts:` in the config).

    `overrides(key, language)` gives the admin's wording of `customer.<key>` or None (the
    config's `TextsConfig.override`); without it this is the built-in catalogue. One per
    runtime: no module state."""

    def __init__(self, overrides: Callable[[str, str], str | None] | None = None) -> None:
        self._overrides = overrides

    def __call__(self, language: str | None, key: str, **values: object) -> str:
        """`customer.<key>` in `language` (plain text), formatted with `values`."""
        if self._overrides is not None:
            custom = self._overrides(key, normalize_language(language))
            if custom is not None:
                return custom.format(**values)
        return text(language, f"customer.{key}", **values)


def all_keys() -> dict[str, set[str]]:
    """The keys defined per language (tests check every language has every key)."""
    return {language: set(table) for language, table in _TEXTS.items()}
