"""python -m contact_jobs_cli: the same as the contact-jobs console script."""

import sys

from contact_jobs_cli.main import main

sys.exit(main())
