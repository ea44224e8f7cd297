"""`make validate`: each mistake a staff member can make in the YAML gives its documented error."""

import shutil
from pathlib import Path

import pytest

from scripts import validate_content

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of everything staff edit, as the working directory."""
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("catalogue", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "nlu_test_set.yml", tmp_path / "tests" / "nlu_test_set.yml")
    shutil.copytree(ROOT / "tests" / "heldout", tmp_path / "tests" / "heldout")
    shutil.copytree(ROOT / "validation", tmp_path / "validation")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATALOGUE_DIR", str(tmp_path / "catalogue"))
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_project_as_committed_is_valid(project):
    assert validate_content.problems() == []


@pytest.mark.parametrize(
    "file, old, new, expected",
    [
        (
            "data/nlu/en/routing.yml",
            "- intent: live_chat\n  examples: |",
            "- intent: live_chat\n examples: |",
            "data/nlu/en/routing.yml:",
        ),
        (
            "catalogue/channels.yml",
            "link: https://www.wmnow.co.uk",
            "link: http://www.wmnow.co.uk",
            "catalogue/channels.yml:39: channel 'wmnow': link 'http://www.wmnow.co.uk' must start with https://",
        ),
        (
            "catalogue/channels.yml",
            'opens: "08:00"',
            'opens: "8am"',
            "channel 'live_chat': hours 'opens' must be a quoted time HH:MM",
        ),
        (
            "catalogue/routes.yml",
            "Sign up to WMNow for free",
            "Sign up to {wmnoww} for free",
            "route 'alerts': {wmnoww} names no channel",
        ),
        (
            "domain.yml",
            "  - something_else\n",
            "  - something_else\n  - lost_wallets\n",
            "intent 'lost_wallets' has no route -- add a route named 'lost_wallets'",
        ),
        (
            "catalogue/routes.yml",
            "buttons: [social_media]",
            "buttons: [social_medias]",
            "route 'alerts': button 'social_medias' names no route",
        ),
        (
            "catalogue/emergency.yml",
            "danger:\n",
            "danger:\n  - (unclosed\n",
            "'danger' pattern '(unclosed' is not a valid regular expression",
        ),
    ],
)
def test_a_mistake_gives_an_error_naming_the_file_and_the_fix(project, file, old, new, expected):
    edit(project / file, old, new)
    found = "\n".join(validate_content.problems())
    assert expected in found


def test_yaml_syntax_errors_give_the_line(project):
    edit(project / "data/nlu/en/routing.yml", "- intent: live_chat\n  examples: |", "- intent: live_chat\n examples: |")
    [problem] = validate_content.problems()
    assert problem.startswith("data/nlu/en/routing.yml:") and "YAML syntax" in problem and "indentation" in problem


def test_an_intent_with_too_few_examples(project):
    edit(project / "domain.yml", "  - something_else\n", "  - something_else\n  - lost_wallets\n")
    (project / "data/nlu/en/lost_wallets.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: lost_wallets\n  examples: |\n    - lost my wallet\n    - wallet gone\n'
    )
    assert any("intent 'lost_wallets' has 2 examples -- add at least 18 more" in p for p in validate_content.problems())


def test_the_same_example_under_two_intents(project):
    edit(
        project / "data/nlu/en/routing.yml",
        "- intent: alerts\n  examples: |\n",
        "- intent: alerts\n  examples: |\n    - Live chat please!\n",
    )
    edit(
        project / "data/nlu/en/routing.yml",
        "- intent: live_chat\n  examples: |\n",
        "- intent: live_chat\n  examples: |\n    - live chat please\n",
    )
    found = "\n".join(validate_content.problems())
    assert (
        "'live chat please' is under 'live_chat' and also under 'alerts'" in found
        or "'Live chat please!' is under 'alerts' and also under 'live_chat'" in found
    )
    assert "keep it under one intent only" in found


def test_a_training_example_that_is_in_the_held_out_set(project):
    held_out_line = next(
        line
        for line in (project / "tests/nlu_test_set.yml").read_text().splitlines()
        if line.strip().startswith("- ") and "intent:" not in line and "alert" in line
    )
    edit(
        project / "data/nlu/en/routing.yml",
        "- intent: alerts\n  examples: |\n",
        f"- intent: alerts\n  examples: |\n    {held_out_line.strip()}\n",
    )
    found = "\n".join(validate_content.problems())
    assert "is also in a held-out test set (tests/nlu_test_set.yml" in found
    assert "data/nlu/en/routing.yml:" in found


def test_the_script_exits_1_and_prints_the_problems(project, capsys):
    edit(project / "catalogue/channels.yml", "link: https://www.wmnow.co.uk", "link: http://www.wmnow.co.uk")
    assert validate_content.main() == 1
    assert "ERROR catalogue/channels.yml" in capsys.readouterr().err
