"""`python -m haflow` runs the CLI."""

from haflow.cli import main

main()
