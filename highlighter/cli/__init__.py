"""The ``highlight`` command line. Commands only parse options, call the library and print: ``group`` holds the
group and the one path from options to settings, each other module a stage's commands, ``tables`` the rich
tables they print."""

from highlighter.cli import cut, demo, evaluate, review, synth, tag, train, video  # noqa: F401  (registers the commands)
from highlighter.cli.group import highlight


def main() -> None:
    """Console-script entry point."""
    highlight(prog_name="highlight")


__all__ = ["highlight", "main"]
