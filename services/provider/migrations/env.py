from provider_service.models import Base, import_all_models
from webrana_common.db.migrations import run_alembic

import_all_models()
run_alembic([Base.metadata])
