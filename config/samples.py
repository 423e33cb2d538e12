"""The sample secrets shown in the comments of config/example.yaml, which the bridge refuses.

The example file shows what each secret looks like with a realistic value in a comment. An admin
who pastes one of those values has not configured the bridge yet, so validation rejects them.
Each platform's own samples come with its `PlatformSchema` (`config.rules.sample_secrets`
joins them); a test keeps the table and the comments of example.yaml in step.
"""

from __future__ import annotations

from config.paths import Path

SAMPLE_SECRETS: dict[Path, tuple[str, str]] = {
    ("telegram", "token"): ("110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "the bot's token"),
    ("telegram", "webhook_secret"): ("Zq7Lw2Xv9Tn1Pk5Hs8Dm3Fb6", "a webhook secret"),
    ("http", "widget_secret"): ("kR4tY8uI2oP6aS0dF3gH7jK1lZ5xC9vB", "a signing key"),
}
"""Key path -> (the sample value in example.yaml, what the admin should put there instead)."""
