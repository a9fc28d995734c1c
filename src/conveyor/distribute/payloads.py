"""Webhook bodies in formats receivers understand: ACR, CloudEvents, Harbor, Docker Hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any


@dataclass(frozen=True, slots=True)
class ImagePushed:
    instance: str
    region: str
    host: str  # how clients reach the registry, for resource URLs
    namespace: str
    name: str  # the repository name inside the namespace
    tag: str
    digest: str
    pusher: str
    public: bool
    pushed_at: datetime
    repository_created_at: datetime
    delivery_id: str

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"


def render(fmt: str, event: ImagePushed, utc_offset_hours: float) -> tuple[dict[str, Any], str]:
    """The body and its content type."""
    if fmt == "cloudevents":
        return cloudevents(event), "application/cloudevents+json"
    if fmt == "harbor":
        return harbor(event), "application/json"
    if fmt == "dockerhub":
        return dockerhub(event), "application/json"
    return acr(event, utc_offset_hours), "application/json"


def acr(event: ImagePushed, utc_offset_hours: float) -> dict[str, Any]:
    """Exactly the field set of ACR's image-push webhook; times local to the instance's zone."""
    zone = timezone(timedelta(hours=utc_offset_hours))

    def stamp(moment: datetime) -> str:
        return _aware(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    return {
        "push_data": {
            "digest": event.digest,
            "pushed_at": stamp(event.pushed_at),
            "tag": event.tag,
        },
        "repository": {
            "date_created": stamp(event.repository_created_at),
            "name": event.name,
            "namespace": event.namespace,
            "region": event.region,
            "repo_authentication_type": "NO_CERTIFIED",
            "repo_full_name": event.full_name,
            "repo_origin_type": "NO_CERTIFIED",
            "repo_type": "PUBLIC" if event.public else "PRIVATE",
        },
    }


def cloudevents(event: ImagePushed) -> dict[str, Any]:
    """CloudEvents 1.0, structured mode."""
    return {
        "specversion": "1.0",
        "id": event.delivery_id,
        "source": f"/conveyor/{event.instance}/{event.full_name}",
        "type": "io.conveyor.image.pushed",
        "subject": f"{event.full_name}:{event.tag}",
        "time": _aware(event.pushed_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "datacontenttype": "application/json",
        "data": {
            "repository": event.full_name,
            "namespace": event.namespace,
            "name": event.name,
            "tag": event.tag,
            "digest": event.digest,
            "region": event.region,
            "pusher": event.pusher,
            "resourceUrl": f"{event.host}/{event.full_name}:{event.tag}",
        },
    }


def harbor(event: ImagePushed) -> dict[str, Any]:
    """Harbor's default PUSH_ARTIFACT notification."""
    return {
        "type": "PUSH_ARTIFACT",
        "occur_at": int(_aware(event.pushed_at).timestamp()),
        "operator": event.pusher,
        "event_data": {
            "resources": [
                {
                    "digest": event.digest,
                    "tag": event.tag,
                    "resource_url": f"{event.host}/{event.full_name}:{event.tag}",
                }
            ],
            "repository": {
                "date_created": int(_aware(event.repository_created_at).timestamp()),
                "name": event.name,
                "namespace": event.namespace,
                "repo_full_name": event.full_name,
                "repo_type": "public" if event.public else "private",
            },
        },
    }


def dockerhub(event: ImagePushed) -> dict[str, Any]:
    """Docker Hub's push payload (what Keel and similar redeployers read)."""
    return {
        "callback_url": "",
        "push_data": {
            "images": [event.digest],
            "pushed_at": int(_aware(event.pushed_at).timestamp()),
            "pusher": event.pusher,
            "tag": event.tag,
        },
        "repository": {
            "comment_count": 0,
            "date_created": int(_aware(event.repository_created_at).timestamp()),
            "description": "",
            "dockerfile": "",
            "full_description": "",
            "is_official": False,
            "is_private": not event.public,
            "is_trusted": False,
            "name": event.name,
            "namespace": event.namespace,
            "owner": event.namespace,
            "repo_name": event.full_name,
            "repo_url": f"{event.host}/{event.full_name}",
            "star_count": 0,
            "status": "Active",
        },
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
