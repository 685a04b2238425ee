"""Config loading: defaults without a file, strict validation, errors naming file and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.config import Config, ConfigError, load_config, parse_config, to_toml_dict
from tests.shared import REPO


def test_no_config_file_means_sim_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDCONSOLE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = load_config()
    assert config.console.provider == "sim"
    assert config.source == ""
    assert "paper" in config.accounts


def test_a_named_config_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; create it with `mdconsole config init"):
        load_config(tmp_path / "nope.toml")


def test_environment_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[console]\nsymbols = ["ETH/USD"]\n')
    monkeypatch.setenv("MDCONSOLE_CONFIG", str(path))
    assert load_config().console.symbols == ["ETH/USD"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[console]\nfps = "fast"\n', "f.toml: key console.fps: Expected `int`, got `str`"),
        ("[console]\nfsp = 3\n", "f.toml: unknown key 'fsp' in [console]"),
        ("colour = 1\n", "f.toml: unknown key 'colour'"),
        ("[console]\nfps = 500\n", "key console: fps must be between 1 and 60, got 500"),
        ('[console]\nsymbols = ["BTCUSD"]\n', "symbol 'BTCUSD' is not of the form BASE/QUOTE"),
        ('[console]\ntimeframe = "2m"\n', "key console.timeframe: Invalid enum value '2m'"),
        ("[providers.nosuch]\nx = 1\n", "key providers.nosuch: unknown provider; known: sim"),
        ('[console]\nprovider = "nosuch"\n', "key console.provider: unknown provider 'nosuch'"),
        ("[console\n", "f.toml: not valid TOML"),
        ('[console]\nwatchlist = "x"\n', "watchlist 'x' is not in [console.watchlists]"),
        ('[console.watchlists]\nm = ["BTC"]\n', "symbol 'BTC' is not of the form BASE/QUOTE"),
        ("[accounts.paper.risk]\nmax_size = 1\n",
         "key accounts.paper.risk.max_size: unknown risk setting"),
        ("[accounts.paper.paper]\ntaker_bps = -1\n",
         "key accounts.paper.paper.taker_bps: got -1; expected a number >= 0"),
    ],
)
def test_bad_config_errors_name_the_file_key_and_problem(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "f.toml")
    assert expected in str(info.value)


def test_provider_sections_are_passed_through() -> None:
    config = parse_config("[providers.sim]\nseed = 3\nrate = 5000\n")
    assert config.provider_config("sim") == {"seed": 3, "rate": 5000}
    assert config.provider_config("absent") == {}


def test_config_show_masks_secrets_but_not_env_var_names() -> None:
    config = Config(providers={"sim": {"api_key": "abcd", "api_secret": "s3", "api_key_env": "K"}})
    shown = to_toml_dict(config)["providers"]["sim"]
    assert shown == {"api_key": "***", "api_secret": "***", "api_key_env": "K"}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)


def test_cli_config_init_then_check_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    assert _cli("config", "init", "--config", str(path)).returncode == 0
    assert path.exists()
    check = _cli("config", "check", "--config", str(path))
    assert check.returncode == 0 and "ok:" in check.stdout
    again = _cli("config", "init", "--config", str(path))
    assert again.returncode == 2 and "already exists; pass --force" in again.stderr


def test_cli_reports_a_bad_config_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[console]\nfps = 'x'\n")
    result = _cli("config", "check", "--config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"error: {path}: key console.fps" in result.stderr


def test_trading_table_is_checked_with_the_rest_of_the_file() -> None:
    with pytest.raises(ConfigError, match=r"key trading\.size_ladder: got \[0\.1, -1\]"):
        parse_config("[trading]\nsize_ladder = [0.1, -1]\n", "f.toml")
    config = parse_config("[trading]\nconfirm_notional = 5000\n")
    assert config.trading == {"confirm_notional": 5000}


def test_the_example_config_is_valid() -> None:
    from console.config import EXAMPLE

    assert parse_config(EXAMPLE).console.provider == "sim"
