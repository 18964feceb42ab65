"""`python -m tinygrad_xor`: the same as the `tinygrad-xor` command."""

import sys

from tinygrad_xor_command import main

sys.exit(main())
