"""``python -m behavior_sync hubspot discover``: a portal's contact properties, and the behaviors' mappings checked.

Prints every contact property (name, label, type/fieldType, group, options), then one line per
HubSpot property destination of the behavior files that use the connection: ``ok``, ``missing``
(the first load creates it) or ``wrong_type`` (the load would fail; the line says what to do).
Exit code 1 when a mapping is wrong or the portal cannot be read. The Service Key (or token) is never printed.
"""

from __future__ import annotations

import argparse
from typing import Any

from behavior_sync.config import load_behaviors


def add_hubspot_commands(sub: Any) -> None:
    """Registers ``hubspot discover`` on the CLI's subparsers."""
    hubspot = sub.add_parser("hubspot", help="HubSpot tools (field discovery)")
    commands = hubspot.add_subparsers(required=True, metavar="HUBSPOT_COMMAND")
    discover = commands.add_parser("discover", help="list contact properties and check the behaviors' mappings")
    discover.add_argument("--connection", default="hubspot_default", help="the HubSpot connection id")
    discover.set_defaults(handler=_discover)


def _discover(args: argparse.Namespace) -> int:
    from behavior_sync.cli import format_table
    from behavior_sync.connections import ConnectionSettingsError, read_connection, validated_extras
    from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials
    from behavior_sync.destinations.hubspot_discovery import check_mappings, discover
    from behavior_sync.destinations.hubspot_errors import HubSpotError
    from behavior_sync.destinations.retry import RetryPolicy

    try:
        conn = read_connection(args.connection)
        extras = validated_extras("hubspot", args.connection, conn.extra)
        credentials = HubSpotCredentials.of_connection(args.connection, extras, conn.host, conn.password)
        client = HubSpotClient(credentials, f"connection {args.connection}", RetryPolicy(attempts=2))
        fields = discover(client)
    except (ConnectionSettingsError, HubSpotError) as exc:
        print(f"error: {exc}")
        return 1
    print(f"portal {credentials.portal_id}: {len(fields)} contact properties")
    rows = [fields[name].row() for name in sorted(fields)]
    print(format_table(["name", "label", "type", "group", "options"], rows))
    checks = check_mappings(fields, load_behaviors().behaviors, args.connection)
    for check in checks:
        print(f"{check.behavior}/{check.destination_id}: {check.status}: {check.message}")
    return 1 if any(c.status == "wrong_type" for c in checks) else 0
