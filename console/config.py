"""TOML configuration: where it lives, its schema, and validation errors that name file and key."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

ENV_CONFIG = "MDCONSOLE_CONFIG"
SECRET_KEYS = re.compile(r"(secret|key|passphrase|password|token)", re.IGNORECASE)
"""Keys whose values `config show` masks: secrets are never printed, logged or recorded."""


class ConfigError(Exception):
    """A config problem, already phrased for the user: file, key, what is wrong, what to do."""


class ConsoleSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What the console opens on and how it paints."""

    provider: str = "sim"
    symbols: list[str] = msgspec.field(
        default_factory=lambda: ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]
    )
    watchlists: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """Saved watchlists by name; `watchlist` picks the one the console opens on."""
    watchlist: str = ""
    timeframe: Literal["1s", "1m", "5m", "15m", "1h", "4h", "1d"] = "1m"
    theme: str = "mdconsole-dark"
    fps: int = 20
    first_quote_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 60:
            raise ValueError(f"fps must be between 1 and 60, got {self.fps}")
        if not self.symbols:
            raise ValueError("symbols must name at least one symbol, e.g. [\"BTC/USD\"]")
        for symbol in [*self.symbols, *(s for saved in self.watchlists.values() for s in saved)]:
            base, sep, quote = symbol.partition("/")
            if not (base and sep and quote):
                raise ValueError(f"symbol {symbol!r} is not of the form BASE/QUOTE, e.g. BTC/USD")
        if self.watchlist and self.watchlist not in self.watchlists:
            known = ", ".join(self.watchlists) or "none saved"
            raise ValueError(
                f"watchlist {self.watchlist!r} is not in [console.watchlists] ({known})"
            )
        if self.first_quote_timeout <= 0:
            raise ValueError("first_quote_timeout must be a positive number of seconds")


class AccountSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An account and where its orders go; `risk` is checked by the EMS's own schema."""

    destination: str = "paper"
    risk: dict[str, Any] = msgspec.field(default_factory=dict)
    paper: dict[str, Any] = msgspec.field(default_factory=dict)
    """Paper clearing settings (fees, latency, cash), checked by the EMS's own schema."""


class RecordSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Defaults for `mdconsole record`."""

    out: str = ""
    rotate: str = "daily"
    compress: bool = True


class TradingConfigError(ValueError):
    """A `[trading]` setting is wrong; the message names the key and the fix."""


class TradingSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The `[trading]` table: how keyboard orders are sized and when they ask to confirm."""

    account: str = ""
    """Account new orders go to ("" = the first configured account)."""
    default_size: float = 0.0
    """Size of a new ticket in base units (0 = the first step of the size ladder)."""
    size_ladder: list[float] = msgspec.field(default_factory=list)
    """Sizes `]` and `[` step through, in base units ([] = 1, 5, 10, 50, 100, 500 lots)."""
    confirm_notional: float = 0.0
    """Orders of at least this notional (quote currency) ask for confirmation (0 = never)."""
    confirm_live: bool = True
    """In LIVE mode every order asks for confirmation unless this is false."""
    ladder_group: int = 1
    """Ticks per ladder row to start with."""

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "trading") -> TradingSettings:
        """Validate strictly; each error names `where.key`, the value and what is expected."""
        names = {f.name for f in msgspec.structs.fields(cls)}
        for key, value in table.items():
            if key not in names:
                raise TradingConfigError(
                    f"{where}.{key}: unknown trading setting; known: {', '.join(sorted(names))}")
            if key == "account" and not isinstance(value, str):
                raise TradingConfigError(f"{where}.account: got {value!r}; expected a name")
            if key == "confirm_live" and not isinstance(value, bool):
                raise TradingConfigError(f"{where}.confirm_live: got {value!r}; use true/false")
            if key in ("default_size", "confirm_notional") and not _non_negative(value):
                raise TradingConfigError(f"{where}.{key}: got {value!r}; expected a number >= 0")
            if key == "ladder_group" and (isinstance(value, bool) or not isinstance(value, int)
                                          or value < 1):
                raise TradingConfigError(
                    f"{where}.ladder_group: got {value!r}; expected a whole number >= 1")
            if key == "size_ladder" and (not isinstance(value, list) or not all(
                    _non_negative(v) and v > 0 for v in value)):
                raise TradingConfigError(
                    f"{where}.size_ladder: got {value!r}; expected a list of sizes > 0, "
                    "e.g. [0.01, 0.1, 1]")
        try:
            return msgspec.convert(dict(table), cls)
        except msgspec.ValidationError as exc:  # pragma: no cover - guarded above
            raise TradingConfigError(f"{where}: {exc}") from None

    def ladder_for(self, lot: float) -> list[float]:
        """Size ladder steps, ascending; defaults to multiples of the lot."""
        if self.size_ladder:
            return sorted(self.size_ladder)
        return [round(lot * k, 12) for k in (1, 5, 10, 50, 100, 500)]


def _non_negative(value: object) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float)
            and math.isfinite(value) and value >= 0)


class Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The whole file. Every section is optional: no file at all runs on `sim`."""

    console: ConsoleSection = msgspec.field(default_factory=ConsoleSection)
    providers: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    accounts: dict[str, AccountSection] = msgspec.field(
        default_factory=lambda: {"paper": AccountSection()}
    )
    keys: dict[str, str] = msgspec.field(default_factory=dict)
    record: RecordSection = msgspec.field(default_factory=RecordSection)
    trading: dict[str, Any] = msgspec.field(default_factory=dict)
    """Keyboard order entry settings, checked by `TradingSettings.from_mapping`."""
    source: str = ""
    """The file this came from ("" for built-in defaults); not a TOML key."""

    def risk_tables(self) -> dict[str, dict[str, Any]]:
        """`[accounts.<name>.risk]` per account, for the EMS's risk gate."""
        return {name: account.risk for name, account in self.accounts.items()}

    def paper_accounts(self) -> list[str]:
        """Accounts whose orders go to the paper engine."""
        return [name for name, account in self.accounts.items() if account.destination == "paper"]

    def paper_table(self) -> dict[str, Any]:
        """The paper engine's settings: the first paper account's `[accounts.<name>.paper]`."""
        for name in self.paper_accounts():
            if table := self.accounts[name].paper:
                return dict(table)
        return {}

    def provider_config(self, name: str) -> dict[str, Any]:
        """The `[providers.<name>]` table, empty when absent."""
        return dict(self.providers.get(name, {}))


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--config`, else `$MDCONSOLE_CONFIG`, else the platform config dir's `config.toml`."""
    if explicit:
        return Path(explicit).expanduser()
    if env := os.environ.get(ENV_CONFIG):
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("mdconsole") / "config.toml"


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config; a missing default file means built-in defaults.

    A file named explicitly (flag or environment) must exist: a typo there should not silently
    fall back to defaults.
    """
    path = config_path(explicit)
    named = bool(explicit or os.environ.get(ENV_CONFIG))
    if not path.exists():
        if named:
            raise ConfigError(
                f"config file {path} does not exist; create it with `mdconsole config init "
                f"--config {path}` or drop the --config/{ENV_CONFIG} setting"
            )
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<string>") -> Config:
    """Validate TOML text against the schema; errors name the file, the key and the problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_explain(str(exc))}") from None
    config.source = source
    from providers import KNOWN

    for name in config.providers:
        if name not in KNOWN:
            raise ConfigError(
                f"{source}: key providers.{name}: unknown provider; known: {', '.join(KNOWN)}"
            )
    _check_accounts(config, source)
    if config.console.provider not in KNOWN:
        raise ConfigError(
            f"{source}: key console.provider: unknown provider {config.console.provider!r}; "
            f"known: {', '.join(KNOWN)}"
        )
    return config


def _check_accounts(config: Config, source: str) -> None:
    """Risk, paper and trading tables have schemas of their own; `config check` sees them too."""
    from console.ems.paper import PaperConfig, PaperConfigError
    from console.ems.risk import RiskConfigError, RiskLimits

    for name, account in config.accounts.items():
        try:
            RiskLimits.from_mapping(account.risk, f"accounts.{name}.risk")
            PaperConfig.from_mapping(account.paper, f"accounts.{name}.paper")
        except (RiskConfigError, PaperConfigError) as exc:
            raise ConfigError(f"{source}: key {exc}") from None
    try:
        TradingSettings.from_mapping(config.trading)
    except TradingConfigError as exc:
        raise ConfigError(f"{source}: key {exc}") from None


def _explain(message: str) -> str:
    """Turn msgspec's `... - at `$.console.fps`` into `key console.fps: ...` with a hint."""
    problem, sep, where = message.rpartition(" - at ")
    if not sep:
        problem, where = message, ""
    key = where.strip("`").removeprefix("$").lstrip(".")
    if problem.startswith("Object contains unknown field"):
        field = problem.split("`")[1] if "`" in problem else "?"
        where_in = f" in [{key}]" if key else ""
        return (
            f"unknown key {field!r}{where_in}; check its spelling or remove it "
            "(`mdconsole config init` writes a commented example)"
        )
    return f"key {key or '(top level)'}: {problem}; fix the value or drop the key for the default"


def masked(value: Any, key: str = "") -> Any:
    """A copy of a config value with every secret-looking entry replaced by `***`."""
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    if key and SECRET_KEYS.search(key) and value not in ("", None) and not key.endswith("_env"):
        return "***"
    return value


def to_toml_dict(config: Config) -> dict[str, Any]:
    """The config as plain data for `config show` (secrets masked, `source` left out)."""
    data = msgspec.to_builtins(config)
    data.pop("source", None)
    return masked(data)  # type: ignore[no-any-return]


EXAMPLE = """\
# mdconsole configuration. Every section and key is optional.

[console]
provider = "sim"                 # where market data comes from (see `mdconsole providers`)
symbols = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]
# watchlist = "majors"           # open on a saved watchlist instead of `symbols`
# watchlists = { majors = ["BTC/USD", "ETH/USD"], alts = ["SOL/USD", "DOGE/USD"] }
timeframe = "1m"                 # 1s 1m 5m 15m 1h 4h 1d
theme = "mdconsole-dark"
fps = 20                         # frame pump rate; rendering cost is bounded by it
first_quote_timeout = 10.0       # seconds to wait for each symbol's first quote

[providers.sim]
seed = 7                         # same seed, same market
rate = 200                       # events per second in all; up to 100000+ for stress tests

[accounts.paper]
destination = "paper"
# [accounts.paper.risk]
# max_order_size = 10.0
# price_band_pct = 5.0

# [trading]
# account = "paper"              # account new orders go to (default: the first account)
# default_size = 0.001           # ticket size in base units (0 = first size-ladder step)
# size_ladder = [0.001, 0.01, 0.1, 1]   # sizes ] and [ step through (default: lot multiples)
# confirm_notional = 5000        # ask before orders of at least this notional (0 = never)
# confirm_live = true            # LIVE accounts confirm every order
# ladder_group = 1               # ticks per ladder row at start

# [keys]                         # remap a binding by its id, e.g.
# "quit" = "ctrl+q"

# API keys never go here in plain text if you can avoid it: name an environment variable,
# e.g. api_key_env = "KRAKEN_API_KEY" under [providers.kraken].
"""
