"""`python -m riposte.cli`: the `riposte` command (the supervisor starts the Signal bridge so)."""

import sys

from riposte.cli import main

sys.exit(main())
