"""`python -m bridge` runs the same command line as `talker-bridge`."""

import sys

from bridge.cli import main

sys.exit(main())
