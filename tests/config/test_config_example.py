"""The shipped example config: it validates, documents every key, and its samples are refused."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from app.config import config_model, load_config
from app.platforms import registry
from config import ConfigError, example_config_path
from config.messages import _mapping_value, _model_in
from config.rules import sample_secrets


def test_example_passes_with_its_variables_set(example_env):
    config = load_config(example_config_path(), env=example_env)

    assert config.source == str(example_config_path())
    assert config.summary() == (
        "language ru, database sqlite, 1 group (support: topics, hours Europe/Moscow, "
        "accept within 5m, answer within 15m, auto-close after 1d), "
        "channels: telegram, vk (longpoll), viber, facebook, site (1 widget)"
    )
    assert config.telegram.token == example_env["TELEGRAM_TOKEN"]
    assert config.channels.facebook.app_secret == example_env["FB_APP_SECRET"]


def test_example_without_variables_names_each_key_and_variable():
    with pytest.raises(ConfigError) as caught:
        load_config(example_config_path(), env={})

    source = str(example_config_path())
    assert caught.value.errors == [
        f"{source}: telegram.token: environment variable TELEGRAM_TOKEN is not set",
        f"{source}: channels.vk.token: environment variable VK_TOKEN is not set",
        f"{source}: channels.viber.token: environment variable VIBER_TOKEN is not set",
        f"{source}: channels.facebook.page_token: environment variable FB_PAGE_TOKEN is not set",
        f"{source}: channels.facebook.app_secret: environment variable FB_APP_SECRET is not set",
        f"{source}: channels.facebook.verify_token: "
        "environment variable FB_VERIFY_TOKEN is not set",
    ]


def _all_keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(name)
        inner = _model_in(field.annotation)
        if inner is None and _mapping_value(field.annotation) is not None:
            inner = _model_in(_mapping_value(field.annotation))
        if inner is not None:
            keys |= _all_keys(inner)
    return keys


def test_example_documents_every_key_with_a_comment():
    lines = example_config_path().read_text(encoding="utf-8").splitlines()
    undocumented = []
    for key in sorted(_all_keys(config_model())):
        pattern = re.compile(rf"^\s*(# )?{key}:")
        found = [i for i, line in enumerate(lines) if pattern.match(line)]
        assert found, f"example.yaml does not mention {key}"
        index = found[0]
        after_key = lines[index].split(f"{key}:", 1)[1]
        has_comment = "#" in after_key or lines[index - 1].lstrip().startswith("#")
        if not has_comment:
            undocumented.append(key)
    assert undocumented == []


def test_example_comments_show_exactly_the_refused_sample_secrets():
    text = example_config_path().read_text(encoding="utf-8")
    shown = set(re.findall(r"e\.g\. (\S+)$", text, flags=re.MULTILINE))
    samples = sample_secrets(registry().schemas())
    secrets = {sample for sample, _ in samples.values()}

    assert secrets <= shown
    for path, (sample, _) in samples.items():
        line = next(line for line in text.splitlines() if sample in line)
        assert f"{path[-1]}:" in line, f"{sample} is not shown next to {'.'.join(path)}"


@pytest.mark.parametrize("variable", ["TELEGRAM_TOKEN", "VK_TOKEN", "FB_APP_SECRET"])
def test_pasting_a_sample_secret_from_the_example_is_refused(example_env, variable):
    text = example_config_path().read_text(encoding="utf-8")
    sample = re.search(rf"\$\{{{variable}\}}.*e\.g\. (\S+)$", text, flags=re.MULTILINE)[1]
    example_env[variable] = sample

    with pytest.raises(ConfigError) as caught:
        load_config(example_config_path(), env=example_env)

    assert len(caught.value.errors) == 1
    assert "still the sample value from example.yaml" in caught.value.errors[0]


def test_example_ships_inside_the_config_package():
    path = example_config_path()
    assert path.is_file()
    assert path.parent.name == "config"
