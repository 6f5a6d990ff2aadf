"""User data for providers that cannot take a password or a public key in their create call.

DigitalOcean and Vultr install SSH keys only by the id of a key registered in the account, and
DigitalOcean sets no root password we choose (it mails one to the account owner). A cloud-config
part does both; the caller's own user data rides along as a second part of a MIME multi-part
archive, which cloud-init merges. JSON is valid YAML, so the cloud-config needs no YAML writer.
"""

from __future__ import annotations

import json
import re
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from pydantic import SecretStr

PUBLIC_KEY = re.compile(
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)"
    r"@openssh\.com) [A-Za-z0-9+/=]+( .*)?$"
)


def is_public_key(value: str) -> bool:
    return bool(PUBLIC_KEY.match(value.strip()))


def cloud_config(
    *, public_keys: list[str], root_password: SecretStr | None
) -> dict[str, Any] | None:
    config: dict[str, Any] = {}
    if public_keys:
        config["ssh_authorized_keys"] = [k.strip() for k in public_keys]
    if root_password is not None:
        config["chpasswd"] = {
            "expire": False,
            "users": [
                {"name": "root", "password": root_password.get_secret_value(), "type": "text"}
            ],
        }
        config["ssh_pwauth"] = True
    return config or None


def user_data(config: dict[str, Any] | None, caller_user_data: str | None) -> str | None:
    """The user data to send: ours, the caller's, or both as one multi-part archive."""
    ours = "#cloud-config\n" + json.dumps(config, indent=2) + "\n" if config else None
    if ours is None or not caller_user_data:
        return ours or caller_user_data
    archive = MIMEMultipart()
    archive.attach(MIMEText(ours, "cloud-config", "utf-8"))
    archive.attach(MIMEText(caller_user_data, _subtype_of(caller_user_data), "utf-8"))
    return archive.as_string()


def _subtype_of(data: str) -> str:
    if data.startswith("#cloud-config"):
        return "cloud-config"
    if data.startswith("#!"):
        return "x-shellscript"
    if data.startswith("#include"):
        return "x-include-url"
    return "x-shellscript"
