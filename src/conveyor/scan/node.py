"""The SCAN node: scan the image that reached the chain, and stop it at the gate when the
policy denies it (DESIGN §5.2): DENIED ends the record, later nodes do not run, then the image is
copied to the backup namespace and the original tag deleted when the policy says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from conveyor.auth.identity import Identity
from conveyor.chains.nodes import NodeOutcome, StepContext
from conveyor.chains.schema import Policy
from conveyor.oci.digest import Digest
from conveyor.oci.reference import split_namespace
from conveyor.registry import manifests
from conveyor.registry.artifacts import attach
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.replicate import copy_within
from conveyor.scan.errors import ScanError
from conveyor.scan.policy import evaluate_policy
from conveyor.scan.service import image_sbom, scan_image

GATE = Identity("conveyor:scan-gate", None, True)
CYCLONEDX = "application/vnd.cyclonedx+json"


class ScanNode:
    kind = "SCAN"

    def __init__(self, ctx: RegistryContext) -> None:
        self.ctx = ctx

    async def run(self, step: StepContext) -> NodeOutcome:
        scan = step.chain.spec.scan
        assert scan is not None, "the engine only runs SCAN steps of chains with a scan node"
        if scan.engine != "builtin":
            return NodeOutcome.failed(f"the {scan.engine} engine is not installed on this runner")
        if not step.digest:
            return NodeOutcome.failed("the record names no image digest to scan")
        await step.log("SCAN", f"scanning {step.repository}@{step.digest}")
        try:
            report = await scan_image(self.ctx, step.repository, Digest.parse(step.digest))
        except (ScanError, RegistryError) as exc:
            return NodeOutcome.failed(f"scan failed: {exc}")
        result = _summary(report)
        await step.log("SCAN", f"{result['findings']} finding(s): {result['summary']}")
        result["sbom"] = await self._attach_sbom(step)
        policy = scan.policy
        if policy is None or policy.deny is None:
            return NodeOutcome.success(result)
        denied, reasons = evaluate_policy(report, {"deny": policy.deny.model_dump()})
        if not denied:
            return NodeOutcome.success(result)
        for reason in reasons:
            await step.log("SCAN", f"policy: {reason}")
        if policy.mode == "non-blocking":
            return NodeOutcome.success({**result, "policyMet": True, "reasons": reasons})
        actions = await self._quarantine(step, policy)
        return NodeOutcome(
            "DENIED",
            {**result, "denied": True, "reasons": reasons, "actions": actions},
            "; ".join(reasons),
        )

    async def _attach_sbom(self, step: StepContext) -> str | None:
        """The CycloneDX SBOM goes next to the image as a referrer; losing it fails nothing."""
        subject = Digest.parse(step.digest or "")
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            sbom = await image_sbom(self.ctx, step.repository, subject)
            content = json.dumps(sbom, separators=(",", ":")).encode()
            annotations = {"org.opencontainers.image.created": created}
            digest = await attach(
                self.ctx, step.repository, subject, CYCLONEDX, content, annotations, GATE
            )
        except (ScanError, RegistryError) as exc:
            await step.log("SCAN", f"SBOM not attached: {exc}")
            return None
        await step.log("SCAN", f"SBOM attached as referrer {digest}")
        return str(digest)

    async def _quarantine(self, step: StepContext, policy: Policy) -> list[str]:
        actions: list[str] = []
        tag = step.tag
        digest = Digest.parse(step.digest or "")
        if policy.backup is not None and tag:
            target = f"{policy.backup.namespace}/{split_namespace(step.repository)[1]}"
            await copy_within(self.ctx, step.repository, digest, target, tag, GATE)
            actions.append(f"copied to {target}:{tag}")
            await step.log("SCAN", f"backup: copied to {target}:{tag}")
        if policy.deleteOriginal and tag:
            try:
                await manifests.delete_reference(self.ctx, step.repository, tag, GATE)
                actions.append(f"deleted tag {step.repository}:{tag}")
                await step.log("SCAN", f"deleted tag {step.repository}:{tag}")
            except RegistryError as exc:
                actions.append(f"tag not deleted: {exc.message}")
        return actions


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "digest": report.get("digest"),
        "summary": report.get("summary", {}),
        "findings": len(report.get("findings") or []),
        "packages": len(report.get("packages") or []),
    }
