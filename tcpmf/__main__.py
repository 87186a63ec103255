"""``python -m tcpmf`` runs the command line."""

from tcpmf.cli import main

main()
