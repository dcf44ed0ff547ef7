"""`python -m assistant ...`: see `assistant/interfaces/cli.py`."""

from assistant.interfaces.cli import main

raise SystemExit(main())
