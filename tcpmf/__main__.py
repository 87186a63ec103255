"""``python -m tcpmf`` runs the command line."""

from tcpmf.cli.main import main

main()
