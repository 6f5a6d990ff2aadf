from __future__ import annotations

from webrana_common.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    port: int = 3001
