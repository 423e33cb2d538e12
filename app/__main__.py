"""`python -m app` runs the same command line as `talker-bridge`."""

import sys

from app.cli import main

sys.exit(main())
