import sys

from domainfit.cli import main

sys.exit(main())
