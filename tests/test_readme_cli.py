"""The README's command-line section and the notebooks README say what the tools do."""
import importlib.metadata
import pathlib
import re
import tomllib

from akida_sim import cli, zoo

ROOT = pathlib.Path(__file__).resolve().parent.parent


def section(text, title):
    """The text of the markdown section ``title`` (up to the next heading of any level)."""
    start = text.index(f"\n{title}\n")
    end = text.find("\n#", start + len(title) + 2)
    return text[start:end if end >= 0 else None]


COMMAND_LINE = section((ROOT / "README.md").read_text(), "### Command line")


def test_the_default_model_and_every_built_in_are_named():
    prose = " ".join(COMMAND_LINE.split())
    assert f"`{zoo.DEFAULT_MODEL}`, the default" in prose
    for name in zoo.MODELS:
        assert f"`{name}`" in prose, name
    assert ", the default" not in prose.replace(f"`{zoo.DEFAULT_MODEL}`, the default", "")


def test_what_runs_without_input_is_said():
    prose = " ".join(COMMAND_LINE.split())
    assert f'"{cli.RANDOM_INPUT_NOTE}"' in prose
    assert "labelled test split" in prose and "--batch N`: its first N samples" in prose
    assert "Predicted class: " in prose and "compiled by Numba on its first use" in prose
    assert "`akida-sim warmup`" in prose


def test_the_synopsis_lists_every_command_and_run_option():
    synopsis = COMMAND_LINE.split("```")[1]
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    for command in commands:
        assert f"akida-sim {command}" in synopsis, command
    run = commands["run"]
    for action in run._actions:
        if action.option_strings and action.dest != "help":
            assert any(option in synopsis for option in action.option_strings), action.option_strings


def test_the_notebooks_readme_commands_come_with_the_notebooks_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    packages = {re.split(r"[<>=~\[ ]", requirement)[0].lower().replace("_", "-")
                for requirement in extras["notebooks"]}
    scripts = {ep.name: ep.dist.name.lower().replace("_", "-")
               for ep in importlib.metadata.entry_points(group="console_scripts")}
    text = (ROOT / "notebooks" / "README.md").read_text()
    commands = re.findall(r"\bjupyter (\w+)", "".join(text.split("```")[1::2]))
    assert commands
    for command in commands:
        if command == "lab":  # the README says it needs JupyterLab, installed apart
            continue
        assert scripts.get(f"jupyter-{command}") in packages, f"jupyter {command}"
