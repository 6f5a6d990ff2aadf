"""`python -m devstack ...` is the same as the `webrana` console script."""

import sys

from devstack.cli import main

sys.exit(main())
