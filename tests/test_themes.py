"""Theme data files: every shipped one loads, and a bad one fails with one line naming the file and field."""

import json
from importlib import resources

import pytest

from agentopia_mesa.world.themes import THEME_NAMES, THEME_TABLE, Theme, ThemeError, load_theme

FOLDER = resources.files("agentopia_mesa.world.themes")


def test_every_shipped_theme_file_loads():
    shipped = sorted(p.name.removesuffix(".json") for p in FOLDER.iterdir() if p.name.endswith(".json"))
    assert shipped == sorted(THEME_NAMES)  # no file left out of THEME_NAMES, none missing
    for name in THEME_NAMES:
        theme = load_theme(FOLDER / f"{name}.json")
        assert isinstance(theme, Theme) and theme.name == name
        assert theme == THEME_TABLE[name]


@pytest.fixture()
def data():
    return json.loads((FOLDER / "apartment.json").read_text(encoding="utf-8"))


def _error(tmp_path, data) -> str:
    path = tmp_path / "apartment.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ThemeError) as info:
        load_theme(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"theme file {path}: ")
    return message


def test_income_range_upside_down(tmp_path, data):
    data["workplaces"][1]["roles"][2]["income"] = [300, 100]
    assert "workplaces[1].roles[2].income: low 300 is above high 100" in _error(tmp_path, data)


def test_unknown_key(tmp_path, data):
    data["workplaces"][0]["roles"][0]["salary"] = 400
    message = _error(tmp_path, data)
    assert "workplaces[0].roles[0].salary" in message and "Extra inputs are not permitted" in message


def test_household_weight_must_be_positive(tmp_path, data):
    data["households"][2]["weight"] = 0
    assert "households[2].weight" in _error(tmp_path, data)


def test_member_ages_must_be_ordered(tmp_path, data):
    data["households"][0]["members"][0]["ages"] = [34, 20, 25]
    assert "households[0].members[0].ages" in _error(tmp_path, data)


def test_event_at_missing_place(tmp_path, data):
    data["events"][3]["place"] = "nowhere"
    assert "events[3].place: 'nowhere' is not the key of a public place" in _error(tmp_path, data)


def test_cohort_without_deposits(tmp_path, data):
    del data["deposits"]["student"]
    message = _error(tmp_path, data)
    assert ".cohort: 'student' has no entry in deposits" in message


def test_unknown_placeholder(tmp_path, data):
    data["hobbies"]["fitness"] = "runs with {his} dog"
    assert "hobbies.fitness: unknown placeholder {his}" in _error(tmp_path, data)


def test_empty_style_pool(tmp_path, data):
    data["styles"]["student"] = []
    assert "styles.student: empty" in _error(tmp_path, data)


def test_name_must_match_the_file(tmp_path, data):
    data["name"] = "elsewhere"
    assert "name: 'elsewhere' differs from the file's name 'apartment'" in _error(tmp_path, data)


def test_duplicate_key_and_broken_json(tmp_path):
    path = tmp_path / "apartment.json"
    path.write_text('{"name": "apartment", "name": "school"}', encoding="utf-8")
    with pytest.raises(ThemeError, match="apartment.json: duplicate key 'name'"):
        load_theme(path)
    path.write_text('{"name": ', encoding="utf-8")
    with pytest.raises(ThemeError, match=r"apartment.json: not valid JSON \(line 1"):
        load_theme(path)
