"""User themes: `themes/*.toml` in the config directory, validated into Textual `Theme`s."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from textual.theme import Theme

from themes.trading import BUILTIN_SPECS, ThemeError, theme_from_mapping

THEMES_DIRNAME = "themes"


def user_themes_dir(config_source: str = "") -> Path:
    """`themes/` beside the config file in use, else in the platform config directory."""
    if config_source and not config_source.startswith("<"):
        return Path(config_source).expanduser().parent / THEMES_DIRNAME
    if env := os.environ.get("MDCONSOLE_CONFIG"):
        return Path(env).expanduser().parent / THEMES_DIRNAME
    from platformdirs import user_config_path

    return user_config_path("mdconsole") / THEMES_DIRNAME


def load_theme_file(path: Path) -> Theme:
    """One theme file; its name is the `name` key, else the file's stem.

    The file has the shape of a shipped theme: base colours at the top level, `dark`, and a
    `[variables]` table of trading colours. Errors name the file and the key.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeError(f"{path}: cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: not valid TOML: {exc}") from None
    name = raw.pop("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ThemeError(f"{path}: 'name' must be a non-empty string, got {name!r}")
    if name in BUILTIN_SPECS:
        raise ThemeError(f"{path}: theme name {name!r} is a shipped theme; pick another name")
    try:
        return theme_from_mapping(name, raw)
    except ThemeError as exc:
        raise ThemeError(f"{path}: {exc}") from None


def load_user_themes(directory: Path) -> tuple[list[Theme], list[str]]:
    """Every valid theme in `directory` (sorted by file name) and one message per bad file.

    A bad file never stops the console: it is reported and the others still load.
    """
    if not directory.is_dir():
        return [], []
    themes: list[Theme] = []
    errors: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            themes.append(load_theme_file(path))
        except ThemeError as exc:
            errors.append(str(exc))
    return themes, errors
