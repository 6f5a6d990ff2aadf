from auth_service.models import Base
from webrana_common.db.migrations import run_alembic
from webrana_common.outbox.models import OutboxMessage

run_alembic([Base.metadata, OutboxMessage.metadata])
