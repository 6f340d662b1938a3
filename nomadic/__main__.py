"""``python -m nomadic`` runs the CLI, like the ``nomadic`` command."""

from nomadic.cli.main import main

main()
