import sys

from neurodec.cli import main

sys.exit(main())
