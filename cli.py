"""The ``highlight`` command (the console script ``cli:main``); the commands live in ``highlighter.cli``."""

from highlighter.cli import highlight, main

__all__ = ["highlight", "main"]

if __name__ == "__main__":
    main()
