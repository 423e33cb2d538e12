"""The sample secrets shown in the comments of config/example.yaml, which the bridge refuses.

The example file shows what each secret looks like with a realistic value in a comment. An admin
who pastes one of those values has not configured the bridge yet, so validation rejects them.
A test keeps this table and the comments of example.yaml in step.
"""

from __future__ import annotations

from config.paths import Path

SAMPLE_SECRETS: dict[Path, tuple[str, str]] = {
    ("telegram", "token"): ("110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "the bot's token"),
    ("telegram", "webhook_secret"): ("Zq7Lw2Xv9Tn1Pk5Hs8Dm3Fb6", "a webhook secret"),
    ("http", "widget_secret"): ("kR4tY8uI2oP6aS0dF3gH7jK1lZ5xC9vB", "a signing key"),
    ("channels", "vk", "token"): (
        "vk1.a.Tq2Wd8Lk4Ns6Xb0Pm3Rc7Vf1Hy5Jz9Ga2Ue6Oi0Kt4Sl8Qw3Er7Ty1Ui5Op9As3Df7Gh",
        "the community token",
    ),
    ("channels", "vk", "secret"): ("Hq3Nc8Wt1Zk6Rv", "a callback secret"),
    ("channels", "vk", "confirmation"): ("e5d2a8f1", "the confirmation string"),
    ("channels", "viber", "token"): (
        "4b2c1f7e9a8d6c5b-3e2f1a0b9c8d7e6f-5a4b3c2d1e0f9a8b",
        "the bot's token",
    ),
    ("channels", "facebook", "page_token"): (
        "EAAJk3ZCq8ZBZAoBAO7xZCvT1ZBmQk2ZCWnZBd9sZA4pXyZCZBZCaZB7Lr",
        "the Page access token",
    ),
    ("channels", "facebook", "app_secret"): ("9f8e7d6c5b4a39281706f5e4d3c2b1a0", "the App Secret"),
    ("channels", "facebook", "verify_token"): ("Wm5Qp8Ls2Kd", "a verify token"),
}
"""Key path -> (the sample value in example.yaml, what the admin should put there instead)."""
