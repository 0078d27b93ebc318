"""`python -m nn.playground ...`: the command line (nn.playground.cli)."""
import sys

from nn.playground.cli import main

if __name__ == "__main__":
    sys.exit(main())
