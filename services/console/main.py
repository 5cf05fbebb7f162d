"""Start the console under uvicorn (``kring console``)."""

from __future__ import annotations

import uvicorn

from services.common.config import get_settings
from services.common.logs import configure_logging
from services.console.app import create_app
from services.console.settings import get_console_settings


def main() -> int:
    settings = get_console_settings()
    common = get_settings()
    configure_logging("console", common.log_level, common.log_format)
    app = create_app(settings)
    uvicorn.run(app, host=settings.console_bind_host, port=settings.console_port, log_config=None,
                access_log=False, proxy_headers=True)
    return 0
