from services.common.migrations import run_env
from services.networks.models import metadata

run_env(metadata)
