"""Repository-level promises: CI runs the README's test command, and the code stays lint-clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.shared import REPO


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick)


def test_readme_quick_start_has_a_run_command_and_a_test_command() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("mdconsole")
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last.strip() == _readme_commands()[1]


def test_only_the_ui_package_imports_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "--config", str(REPO / "pyproject.toml")],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    if "No module named" in result.stderr:
        result = subprocess.run(
            ["lint-imports"], cwd=REPO, capture_output=True, text=True, check=False
        )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed by the dev extra")
def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        ["ruff", "check", "console", "providers", "themes", "tests", "bench"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_help_is_fast_because_imports_are_lazy() -> None:
    best = min(_time_help() for _ in range(3))
    # 0.3 s on a quiet machine; the margin absorbs a busy CI runner.
    assert best < 0.6, f"`mdconsole --help` took {best:.2f}s"
    modules = subprocess.run(
        [sys.executable, "-c",
         "import sys, console.cli\n"
         "try:\n    console.cli.app(['--help'])\nexcept SystemExit:\n    pass\n"
         "print('LOADED:' + ' '.join(m for m in ('numpy','textual','providers.sim')"
         " if m in sys.modules))"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.rpartition("LOADED:")[2].strip()
    assert modules == "", f"--help imported {modules}"


def _time_help() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "console.cli", "--help"], cwd=REPO,
                   capture_output=True, check=True)
    return time.perf_counter() - start
