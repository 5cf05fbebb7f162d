"""``python -m services.console``: the console on its own port (``kring console`` is the same)."""

from services.console.main import main

raise SystemExit(main())
