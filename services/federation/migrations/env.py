from services.common.migrations import run_env
from services.federation.models import metadata

run_env(metadata)
