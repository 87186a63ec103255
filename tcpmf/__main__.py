"""``python -m tcpmf`` runs the command line."""

from .cli import main

main()
