"""`${VAR}` substitution: secrets come from the environment, with clear errors when unset."""

from __future__ import annotations

import pytest

from app.config import parse_config
from config import ConfigError
from config.env import substitute


def test_variable_is_replaced_inside_a_longer_string(minimal):
    minimal["database"] = "postgresql://bridge:${DB_PASSWORD}@db:5432/bridge"
    config = parse_config(minimal, env={"DB_PASSWORD": "p4ss"})
    assert config.database == "postgresql://bridge:p4ss@db:5432/bridge"
    assert config.database_backend == "postgresql"


def test_whole_value_variable_is_typed_by_the_schema(minimal):
    minimal["http"] = {"port": "${PORT}"}
    assert parse_config(minimal, env={"PORT": "9000"}).http.port == 9000


def test_double_dollar_escapes_a_literal_reference(minimal):
    minimal["channels"]["telegram"]["group"] = "support"
    minimal["http"] = {"host": "$${HOST}"}
    assert parse_config(minimal, env={"HOST": "nope"}).http.host == "${HOST}"


def test_unset_variable_names_the_key_and_the_variable(minimal):
    minimal["telegram"]["token"] = "${TELEGRAM_TOKEN}"
    with pytest.raises(ConfigError) as caught:
        parse_config(minimal, source="cfg.yaml", env={"OTHER": "x"})
    assert caught.value.errors == [
        "cfg.yaml: telegram.token: environment variable TELEGRAM_TOKEN is not set"
    ]


def test_unset_variable_in_a_list_item_names_its_index(minimal):
    minimal["groups"]["support"]["operators"] = [1, "${SECOND_OPERATOR}"]
    with pytest.raises(ConfigError) as caught:
        parse_config(minimal, source="cfg.yaml", env={})
    assert caught.value.errors == [
        "cfg.yaml: groups.support.operators[1]: environment variable SECOND_OPERATOR is not set"
    ]


def test_only_referenced_variables_matter(minimal):
    config = parse_config(minimal, env={})
    assert config.channels.vk is None


def test_empty_variable_counts_as_set_and_then_fails_as_empty(minimal):
    minimal["telegram"]["token"] = "${TELEGRAM_TOKEN}"
    with pytest.raises(ConfigError) as caught:
        parse_config(minimal, source="cfg.yaml", env={"TELEGRAM_TOKEN": ""})
    assert caught.value.errors == ["cfg.yaml: telegram.token: must not be empty"]


def test_environment_defaults_to_os_environ(minimal, monkeypatch):
    monkeypatch.setenv("TB_TEST_TOKEN", "555:from-the-environment")
    minimal["telegram"]["token"] = "${TB_TEST_TOKEN}"
    assert parse_config(minimal).telegram.token == "555:from-the-environment"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${", "unclosed '${'"),
        ("abc ${TOKEN", "unclosed '${'"),
        ("${1ABC}", "bad variable reference '${1ABC}'"),
        ("${}", "bad variable reference '${}'"),
    ],
)
def test_malformed_reference_is_reported(text, message):
    value, problems = substitute({"a": {"b": text}}, {"TOKEN": "x"})
    assert value == {"a": {"b": text}}
    assert len(problems) == 1
    assert problems[0][0] == ("a", "b")
    assert problems[0][1].startswith(message)


def test_keys_and_non_strings_are_left_alone():
    value, problems = substitute({"${A}": 1, "b": [True, 2.5, None]}, {"A": "x"})
    assert value == {"${A}": 1, "b": [True, 2.5, None]}
    assert problems == []


def test_substituted_value_is_not_substituted_again():
    value, problems = substitute({"a": "${A}"}, {"A": "${B}", "B": "no"})
    assert value == {"a": "${B}"}
    assert problems == []
