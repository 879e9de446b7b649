"""``python -m assistant.cli``: same as the ``assistant`` console script."""

from assistant.cli import main

main()
