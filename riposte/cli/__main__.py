"""`python -m riposte.cli …`: the `riposte` command (how `riposte serve` runs the bridge)."""

import sys

from riposte.cli import main

sys.exit(main())
