"""``python -m valueclock``: the same as the ``valueclock`` command."""

from valueclock.cli import main

main()
