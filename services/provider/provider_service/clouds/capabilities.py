"""What each provider can do, served by `GET /internal/providers` so callers and frontends hide
what a provider cannot do. The adapters refuse the same things with a typed error."""

from __future__ import annotations

from provider_service.clouds.base import ActionType, Capabilities, ProviderName

POWER = [ActionType.REBOOT, ActionType.POWER_ON, ActionType.POWER_OFF]

DIGITALOCEAN = Capabilities(
    actions=[*POWER, ActionType.SHUTDOWN, ActionType.REBUILD],
    rebuild="any_image",
    reset_password=False,
    console=False,
    action_tracking="action",
    notes=[
        "reset_password is not offered: DigitalOcean's password_reset action power-cycles the "
        "droplet and emails the new password to the account owner (WeBrana), not the customer.",
        "No console: the public API has no console, VNC or serial endpoint.",
        "shutdown is graceful and may do nothing if the OS ignores it; power_off is certain.",
        "Without SSH keys the root password is set through cloud-init user data, because "
        "DigitalOcean would otherwise mail its own password to the account owner.",
    ],
)

VULTR = Capabilities(
    actions=[*POWER, ActionType.REBUILD],
    rebuild="same_image",
    reset_password=False,
    console=True,
    action_tracking="instance_status",
    notes=[
        "No graceful shutdown: power_off is Vultr's halt.",
        "rebuild reinstalls the same OS (Vultr's reinstall takes no image).",
        "reset_password is not offered: Vultr sets the root password only at deployment "
        "(returned once by provision).",
        "The console URL is short-lived: fetch it when the user opens the console, never cache.",
        "Actions have no id: follow them through the instance's status.",
    ],
)

LINODE = Capabilities(
    actions=[*POWER, ActionType.SHUTDOWN, ActionType.RESET_PASSWORD, ActionType.REBUILD],
    rebuild="any_image",
    reset_password=True,
    reset_password_powers_off=True,
    console=False,
    action_tracking="event",
    notes=[
        "reset_password powers the server off (Linode requires it), sets the new password and "
        "boots it again if it was running.",
        "power_off and shutdown are both Linode's shutdown.",
        "rebuild sets a new root password, returned once.",
        "No console: LISH has no endpoint in the public API.",
    ],
)

CAPABILITIES: dict[ProviderName, Capabilities] = {
    ProviderName.DIGITALOCEAN: DIGITALOCEAN,
    ProviderName.VULTR: VULTR,
    ProviderName.LINODE: LINODE,
}
