"""The ``highlight`` group and what every command shares: one-line errors, logging, the options several commands
take, and the one path from options to settings (:func:`settings_for`)."""

from __future__ import annotations

import dataclasses
import logging
import sys
import typing
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from rich.console import Console
from rich.logging import RichHandler

from highlighter.config.schema import choices
from highlighter.config.settings import Settings, VideoSettings, default_map, load_settings
from highlighter.errors import HighlighterError
from highlighter.version import __version__

stdout = Console(soft_wrap=True)  # a line that names a path is never broken inside it
stderr = Console(stderr=True, soft_wrap=True)

DECODER_HELP = (
    "auto (pyav): FFmpeg's own decoding, frame-exact wherever FFmpeg is; decord where asked for (it gives way "
    "to pyav, with a warning, on files where it is not exact); nvdec: PyAV on an NVIDIA GPU's decoder, which auto "
    "takes for 720p and larger where one is."
)
PRECISION_HELP = "Model precision: auto = bf16 where the CPU or GPU computes it natively, else fp32 (CPU) or fp16 (GPU)."

#: The exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


class HighlightGroup(click.Group):
    """A click group that turns the library's user errors into one-line messages and exit code 1, and Ctrl-C
    into the line "interrupted" and exit code 130 (outputs are written atomically: none is left half-written)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            stderr.print("interrupted")
            sys.exit(INTERRUPTED)
        except HighlighterError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # e.g. an output folder that cannot be written
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


def setup_logging(quiet: bool) -> None:
    """Library warnings go to stderr through rich; ``quiet`` keeps errors only."""
    level = logging.ERROR if quiet else logging.WARNING
    handler = RichHandler(console=stderr, show_time=False, show_path=False)
    handler.setLevel(level)  # also for records that other libraries' loggers pass up at their own level
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)


quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (no progress bars).")
decoder_option = click.option("--decoder", type=click.Choice(choices(VideoSettings, "decoder")), help=DECODER_HELP)


def config_file() -> str | None:
    """The --config file given to the group (the API reads the same settings from it)."""
    return click.get_current_context().find_root().params.get("config")


def folder_or_file(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """An output that may be a folder: ``newdir/`` (a trailing separator) makes the folder."""
    from highlighter.outputs.targets import output_target

    return output_target(value)


def file_only(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """An output that is one file: ``newdir/`` is refused rather than written as a file named ``newdir``."""
    from highlighter.outputs.targets import output_target

    return output_target(value, folder_ok=False)


def settings_for(sections: tuple[str, ...], **renamed: Any) -> dict[str, Any]:
    """The one path from a command's options to the library's settings: the named sections of the settings
    (configs/defaults.yaml, --config over it), with each option given on the command line (or through the
    environment) over its setting of the same name. Options left alone change nothing (``--help`` shows the same
    settings as their defaults); ``none`` empties the settings that may be empty. ``renamed``: settings made from
    options named otherwise (``--nms`` gives ``nms_s``), None where the option was not given."""
    from highlighter.api import configured

    context = click.get_current_context()
    kinds = typing.get_type_hints(Settings)
    fields = {f.name for name in sections for f in dataclasses.fields(kinds[name])}
    given = {name: _plain(name, value) for name, value in context.params.items() if name in fields and
             context.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)}
    given.update({name: value for name, value in renamed.items() if value is not None})
    return configured(sections, config_file(), given, none_means_unset=False)


#: options whose setting may be empty, where the word ``none`` on the command line means no value
NONE_WORD_OPTIONS = ("pretrained", "address")


def _plain(name: str, value: Any) -> Any:
    """An option's value as the settings take it: paths as text; the word ``none`` as None where the setting may be
    empty (``--balance none`` is a choice of its own)."""
    if isinstance(value, Path):
        return str(value)
    if name in NONE_WORD_OPTIONS and isinstance(value, str) and value.lower() == "none":
        return None
    return value


@click.group(cls=HighlightGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--config", type=click.Path(dir_okay=False), envvar="HIGHLIGHTER_CONFIG",
              help="YAML file whose values override configs/defaults.yaml (env: HIGHLIGHTER_CONFIG).")
@click.version_option(__version__, prog_name="highlight")
@click.pass_context
def highlight(ctx: click.Context, config: str | None) -> None:
    """Find the goals, cards and substitutions in full-length soccer match videos.

    Every option's default comes from configs/defaults.yaml (or --config over it); see
    `highlight COMMAND --help`.
    """
    ctx.default_map = default_map(load_settings(config))
