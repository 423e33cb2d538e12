"""`channels.viber`: the Viber bot's config section, which the Viber adapter reads as is."""

from __future__ import annotations

from pydantic import Field, field_validator

from config.fields import HttpUrl, Name, NonEmptyStr, Section, fail

#: Viber's limit on the sender name shown with every message.
MAX_SENDER_NAME = 28
#: Viber's limit on the text of the welcome message answered to `conversation_started`.
MAX_GREETING = 7000


class ViberLimits(Section):
    """Viber: at most 100 messages an hour to a user who has not replied."""

    per_user_per_hour: int = Field(100, gt=0)


class ViberSettings(Section):
    """A Viber bot (Viber calls our webhook, so `http.public_url` is needed)."""

    group: Name
    token: NonEmptyStr
    name: NonEmptyStr
    avatar: HttpUrl | None = None
    greeting: NonEmptyStr | None = None
    api_url: HttpUrl = "https://chatapi.viber.com/pa"
    limits: ViberLimits = ViberLimits()

    @field_validator("name")
    @classmethod
    def _short_sender_name(cls, value: str) -> str:
        if len(value) > MAX_SENDER_NAME:
            raise fail(
                f"Viber allows at most {MAX_SENDER_NAME} characters in the sender name, "
                f"got {len(value)}"
            )
        return value

    @field_validator("greeting")
    @classmethod
    def _short_greeting(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_GREETING:
            raise fail(
                f"Viber allows at most {MAX_GREETING} characters in a welcome message, "
                f"got {len(value)}"
            )
        return value
