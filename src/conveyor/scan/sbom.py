"""CycloneDX 1.5 JSON from an inventory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from conveyor.scan.model import Inventory, Package
from conveyor.scan.purl import purl

TOOL_VERSION = "1"


def cyclonedx(inventory: Inventory, image: str, digest: str) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if inventory.distro is not None:
        components.append(
            {
                "bom-ref": "os:" + inventory.distro.id,
                "type": "operating-system",
                "name": inventory.distro.id,
                "version": inventory.distro.version_id,
                "description": inventory.distro.name,
            }
        )
    seen: set[str] = set()
    for package in inventory.packages:
        ref = purl(package, inventory.distro)
        bom_ref = ref if ref not in seen else f"{ref}#{package.path}"
        seen.add(bom_ref)
        components.append(_component(package, ref, bom_ref))
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, digest)}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {
                "components": [{"type": "application", "name": "conveyor", "version": TOOL_VERSION}]
            },
            "component": {
                "bom-ref": digest,
                "type": "container",
                "name": image,
                "version": digest,
            },
        },
        "components": components,
    }


def _component(package: Package, ref: str, bom_ref: str) -> dict[str, Any]:
    properties = [{"name": "conveyor:package:type", "value": package.type}]
    properties.append({"name": "conveyor:layer", "value": package.layer})
    if package.path:
        properties.append({"name": "conveyor:location", "value": package.path})
    if package.source_name:
        properties.append({"name": "conveyor:source:name", "value": package.source_name})
    if package.source_version:
        properties.append({"name": "conveyor:source:version", "value": package.source_version})
    return {
        "bom-ref": bom_ref,
        "type": "library",
        "name": package.name,
        "version": package.version,
        "purl": ref,
        "properties": properties,
    }
