"""``python -m model`` is the ``relsim`` command."""

from .cli import program

program()
