"""Topic names and the checks a configured topic passes."""

from __future__ import annotations

import pytest

from fermentrack.mqtt.topics import Topics, id_part, topic_problem

TOPICS = Topics("fermentrack", "homeassistant")


def test_every_topic_of_a_device_sits_under_the_base_topic():
    assert TOPICS.status == "fermentrack/status"
    assert TOPICS.state("fridge-1") == "fermentrack/fridge-1/state"
    assert TOPICS.availability("fridge-1") == "fermentrack/fridge-1/availability"
    assert TOPICS.error("fridge-1") == "fermentrack/fridge-1/error"
    assert TOPICS.command("fridge-1", "beer_setting") == "fermentrack/fridge-1/beer_setting/set"
    assert TOPICS.command_filter == "fermentrack/+/+/set"


def test_discovery_topics_carry_the_bridge_and_the_device_in_their_ids():
    assert (
        TOPICS.config("sensor", "fridge-1", "beer_temp")
        == "homeassistant/sensor/fermentrack/fridge-1_beer_temp/config"
    )
    assert TOPICS.unique_id("fridge-1", "beer_temp") == "fermentrack_fridge-1_beer_temp"


def test_a_base_topic_with_levels_becomes_a_safe_node_id():
    topics = Topics("home/cellar.fermentrack", "ha")
    assert topics.node_id == "home_cellar_fermentrack"
    assert topics.config("number", "f", "x") == "ha/number/home_cellar_fermentrack/f_x/config"
    assert topics.parse_command("home/cellar.fermentrack/f/mode/set") == ("f", "mode")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Red Tilt", "Red_Tilt"), ('a "b" {{c}}', "a_b_c"), ("fridge-1", "fridge-1"), ("§§", "_")],
)
def test_names_are_escaped_to_the_characters_home_assistant_ids_allow(text, expected):
    assert id_part(text) == expected


@pytest.mark.parametrize(
    "topic",
    [
        "fermentrack/fridge-1/mode/set",
        "fermentrack/fridge-1/anything/set",
    ],
)
def test_command_topics_are_recognised(topic):
    assert TOPICS.parse_command(topic) == ("fridge-1", topic.split("/")[2])


@pytest.mark.parametrize(
    "topic",
    [
        "fermentrack/fridge-1/state",
        "fermentrack/fridge-1/mode/set/more",
        "fermentrack/fridge-1/mode/get",
        "other/fridge-1/mode/set",
        "fermentrackx/fridge-1/mode/set",
        "fermentrack//mode/set",
    ],
)
def test_other_topics_are_not_commands(topic):
    assert TOPICS.parse_command(topic) is None


def test_the_retained_topics_of_the_bridge_are_known_by_their_shape():
    assert TOPICS.is_retained_topic("homeassistant/sensor/fermentrack/old-1_beer_temp/config")
    assert TOPICS.is_retained_topic("fermentrack/old-1/state")
    assert TOPICS.is_retained_topic("fermentrack/old-1/availability")
    assert not TOPICS.is_retained_topic("homeassistant/sensor/other/old-1_beer_temp/config")
    assert not TOPICS.is_retained_topic("fermentrack/status")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "is empty"),
        ("fermentrack/#", "wildcards"),
        ("fermentrack/+/x", "wildcards"),
        ("/fermentrack", "may not start or end with '/'"),
        ("fermentrack/", "may not start or end with '/'"),
        ("a//b", "empty level"),
        ("$SYS", "belong to the broker"),
        ("my brewery", "spaces"),
        ("x" * 101, "at most 100"),
    ],
)
def test_a_bad_topic_is_refused_in_words(value, words):
    problem = topic_problem(value, "the base topic")
    assert problem is not None and words in problem
    assert problem.startswith("the base topic")


@pytest.mark.parametrize("value", ["fermentrack", "home/fermentrack", "homeassistant", "a-b_c.d"])
def test_ordinary_topics_pass(value):
    assert topic_problem(value, "the base topic") is None
