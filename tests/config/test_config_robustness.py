"""Whatever the admin writes, validation answers with ConfigError lines, never a crash."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import parse_config
from config import BridgeConfig, ConfigError

MINIMAL_FOR_FUZZ = {
    "telegram": {"token": "123456:real-token"},
    "groups": {"support": {"chat_id": -1001000000001}},
    "channels": {"telegram": {"group": "support"}},
}

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
keys = st.sampled_from(
    ["language", "database", "http", "telegram", "groups", "channels", "outbox", "close", "zz"]
)
inner_keys = st.sampled_from(
    ["token", "port", "chat_id", "mode", "group", "vk", "site", "widgets", "support", "${X"]
)


@settings(max_examples=150, deadline=None)
@given(top=keys, inner=inner_keys, value=values)
def test_any_value_anywhere_gives_a_config_or_clean_lines(top, inner, value):
    data = copy.deepcopy(MINIMAL_FOR_FUZZ)
    section = data.get(top)
    if isinstance(section, dict):
        section[inner] = value
    else:
        data[top] = value
    try:
        config = parse_config(data, source="cfg.yaml", env={"X": "1"})
    except ConfigError as exc:
        assert exc.errors
        for line in exc.errors:
            assert line.startswith("cfg.yaml: ")
            assert "\n" not in line
            assert "Input should" not in line
    else:
        assert isinstance(config, BridgeConfig)
