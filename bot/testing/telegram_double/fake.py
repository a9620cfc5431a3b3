"""The double assembled: :class:`FakeTelegram`, one class out of its parts."""

from __future__ import annotations

from bot.testing.telegram_double.api_bot import BotMethods


class FakeTelegram(BotMethods):
    """In-memory model of Telegram for one bot.

    Args:
        token: The bot token the fake accepts.
        bot_username: The bot's username (without ``@``).
        rate_limits: Enforce Telegram's flood limits on sends as sliding windows (30 messages
            in any second overall; per private chat 3 in any 3 seconds, i.e. one a second with
            short bursts; per group 20 a minute), answering ``429 Too Many Requests: retry
            after N`` (see :class:`FloodWindows`). On by default, as on Telegram.
        clock: Returns the aware UTC datetime used for message dates (default: real UTC now).
        monotonic: Monotonic seconds for rate limiting (default: :func:`time.monotonic`).
        require_start: If True, sending to a user who never wrote to the bot answers
            ``403 Forbidden: bot can't initiate conversation with a user`` like Telegram.
        bot_first_name: The bot's display name.

    Attributes:
        users: Users by id.
        calls: ``(method, params)`` of every Bot API request, failed ones included
            (canonical method name, decoded parameters).
        callback_answers: Every successful ``answerCallbackQuery``.
        chat_actions: ``(chat_id, action)`` for every ``sendChatAction``.
        sent_count: Successful ``send*`` calls.
        rate_limited: Number of 429 answers.
        menu_buttons: Menu button per chat id (None = default for all chats).
        bot_profile: Values set with setMyName/setMyDescription/setMyShortDescription.

    Each part is a class of its own module, each built on the one below it: the state
    (:mod:`.base`), the update queue (:mod:`.updates`), the files (:mod:`.files`), the
    transcripts (:mod:`.transcript`), the users (:mod:`.users`), the dispatch of calls
    (:mod:`.dispatch`) and the Bot API methods (:mod:`.api_messages`, :mod:`.api_bot`).
    """
