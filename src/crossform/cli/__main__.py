"""``python -m crossform.cli``: the same as the ``crossform`` command."""

import sys

from crossform.cli import main

sys.exit(main())
