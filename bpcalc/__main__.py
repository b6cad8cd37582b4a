"""`python -m bpcalc` is the `bpcalc` command."""

from .cli import main

main()
