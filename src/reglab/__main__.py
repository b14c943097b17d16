"""``python -m reglab`` runs the command line."""

from .cli import main

main(prog_name="reglab")
