"""`python -m riposte.cli …`: how `riposte serve` starts the Signal bridge (serve.py)."""

import sys

from riposte.cli import main

sys.exit(main())
