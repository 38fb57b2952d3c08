"""``python -m akida_sim`` is the ``akida-sim`` command."""
import sys

from .cli import main

sys.exit(main())
