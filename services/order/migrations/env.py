from order_service.models import Base, import_all_models
from webrana_common.db.migrations import run_alembic
from webrana_common.outbox.models import OutboxMessage

import_all_models()
run_alembic([Base.metadata, OutboxMessage.metadata])
