"""Webhook bodies: ACR's exact field set and time format, and the other formats' shapes."""

from __future__ import annotations

from datetime import UTC, datetime

from conveyor.distribute.payloads import ImagePushed, acr, cloudevents, dockerhub, harbor, render

EVENT = ImagePushed(
    instance="prod",
    region="cn-hangzhou",
    host="registry.example.com",
    namespace="namespace",
    name="repoTest",
    tag="latest",
    digest="sha256:" + "a" * 64,
    pusher="ci",
    public=True,
    pushed_at=datetime(2016, 11, 29, 4, 25, 46, tzinfo=UTC),
    repository_created_at=datetime(2016, 10, 28, 13, 31, 42, tzinfo=UTC),
    delivery_id="d-1",
)


def test_acr_body_is_exactly_the_documented_one() -> None:
    assert acr(EVENT, 8) == {
        "push_data": {
            "digest": "sha256:" + "a" * 64,
            "pushed_at": "2016-11-29 12:25:46",
            "tag": "latest",
        },
        "repository": {
            "date_created": "2016-10-28 21:31:42",
            "name": "repoTest",
            "namespace": "namespace",
            "region": "cn-hangzhou",
            "repo_authentication_type": "NO_CERTIFIED",
            "repo_full_name": "namespace/repoTest",
            "repo_origin_type": "NO_CERTIFIED",
            "repo_type": "PUBLIC",
        },
    }


def test_acr_times_follow_the_configured_zone() -> None:
    assert acr(EVENT, 0)["push_data"]["pushed_at"] == "2016-11-29 04:25:46"


def test_cloudevents_is_structured_1_0() -> None:
    event = cloudevents(EVENT)
    assert {"specversion", "id", "source", "type", "time", "datacontenttype", "data"} <= set(event)
    assert event["specversion"] == "1.0" and event["id"] == "d-1"
    assert event["time"] == "2016-11-29T04:25:46Z"
    assert event["data"]["digest"] == EVENT.digest


def test_harbor_push_artifact_shape() -> None:
    body = harbor(EVENT)
    assert body["type"] == "PUSH_ARTIFACT"
    resource = body["event_data"]["resources"][0]
    assert resource["resource_url"] == "registry.example.com/namespace/repoTest:latest"
    assert body["event_data"]["repository"]["repo_type"] == "public"


def test_dockerhub_payload_has_what_keel_reads() -> None:
    body = dockerhub(EVENT)
    assert body["push_data"]["tag"] == "latest"
    assert body["repository"]["repo_name"] == "namespace/repoTest"


def test_render_picks_format_and_content_type() -> None:
    assert render("cloudevents", EVENT, 8)[1] == "application/cloudevents+json"
    assert render("acr", EVENT, 8)[1] == "application/json"
