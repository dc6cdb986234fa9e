"""Errors of the user's making. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class DomainfitError(Exception):
    """Base for problems the user can fix: bad config, bad data, impossible request.

    ``message`` says what is wrong and where; ``fix`` says what to change.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.message}; {self.fix}" if self.fix else self.message


class ConfigError(DomainfitError):
    """The configuration is invalid (unknown key, wrong type, out-of-range value)."""


class DataError(DomainfitError):
    """A data source cannot be read or does not contain what the config asks for."""


class SplitError(DomainfitError):
    """A split cannot be made as requested (too few samples, ratios that do not sum to 1)."""


class RegistryError(DomainfitError):
    """An unknown name was asked of a registry."""
