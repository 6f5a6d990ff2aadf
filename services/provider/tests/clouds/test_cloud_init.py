from __future__ import annotations

import json

from pydantic import SecretStr

from provider_service.clouds.cloud_init import cloud_config, is_public_key, user_data


def test_the_callers_user_data_rides_along_ours_in_one_archive() -> None:
    config = cloud_config(public_keys=["ssh-ed25519 AAAA k"], root_password=None)
    assert config == {"ssh_authorized_keys": ["ssh-ed25519 AAAA k"]}
    combined = user_data(config, "#!/bin/bash\napt-get -y upgrade\n")
    assert combined is not None and combined.startswith("Content-Type: multipart/mixed")
    assert 'Content-Type: text/x-shellscript; charset="utf-8"' in combined


def test_alone_each_part_is_sent_as_it_is() -> None:
    assert user_data(None, "#cloud-config\n{}") == "#cloud-config\n{}"
    assert user_data(None, None) is None
    config = cloud_config(public_keys=[], root_password=SecretStr("Kopi-Tubruk-42!"))
    only_ours = user_data(config, None)
    assert only_ours is not None and only_ours.startswith("#cloud-config\n")
    assert json.loads(only_ours.split("\n", 1)[1]) == {
        "chpasswd": {
            "expire": False,
            "users": [{"name": "root", "password": "Kopi-Tubruk-42!", "type": "text"}],
        },
        "ssh_pwauth": True,
    }
    assert cloud_config(public_keys=[], root_password=None) is None


def test_public_keys_are_told_from_account_key_ids() -> None:
    assert is_public_key("ssh-rsa AAAAB3NzaC1yc2E= me@host")
    assert is_public_key("ecdsa-sha2-nistp256 AAAAE2VjZHNh")
    assert not is_public_key("289794")
    assert not is_public_key("3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45")
    assert not is_public_key("cb676a46-66fd-4dfb-b839-443f2e6c0b60")
