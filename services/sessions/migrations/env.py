from services.common.migrations import run_env
from services.sessions.models import metadata

run_env(metadata)
