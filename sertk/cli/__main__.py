"""``python -m sertk.cli``: the same as the ``sertk`` command."""
from . import console

console()
