"""Chain overhead: manifest push → webhook delivered (distribute node alone), p50/p95 of 50."""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from bench.servers import start_conveyor

PUSHES = 50
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class _Arrivals:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.lock = threading.Lock()


def _receiver(arrivals: _Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with arrivals.lock:
                arrivals.times[body["push_data"]["tag"]] = time.perf_counter()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> str:
    arrivals = _Arrivals()
    hook = _receiver(arrivals)
    server = start_conveyor()
    try:
        latencies = _measure(server.url, server.auth, hook.server_address[1], arrivals)
    finally:
        server.stop()
        hook.shutdown()
    p50 = statistics.median(latencies) * 1000
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000
    return "\n".join(
        [
            "| what | p50 (ms) | p95 (ms) | target |",
            "|---|---|---|---|",
            f"| push → webhook delivered, distribute only ({PUSHES} pushes) | {p50:.0f} | "
            f"{p95:.0f} | < 500 ms p50 |",
        ]
    )


def _measure(url: str, auth: tuple[str, str] | None, port: int, arrivals: _Arrivals) -> list[float]:
    chain = {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": "bench"},
        "spec": {
            "scope": {"namespace": "bench", "repository": "app"},
            "distribute": [{"name": "h", "url": f"http://127.0.0.1:{port}/hook"}],
        },
    }
    latencies = []
    with httpx.Client(base_url=url, auth=auth, timeout=30) as http:
        http.post("/api/v1/namespaces", json={"name": "bench"})
        http.post("/api/v1/chains", json=chain).raise_for_status()
        config = b'{"architecture":"amd64","os":"linux"}'
        digest = "sha256:" + hashlib.sha256(config).hexdigest()
        http.post(f"/v2/bench/app/blobs/uploads/?digest={digest}", content=config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": digest,
                    "size": len(config),
                },
                "layers": [],
            }
        ).encode()
        for n in range(PUSHES):
            tag = f"v{n}"
            started = time.perf_counter()
            http.put(
                f"/v2/bench/app/manifests/{tag}",
                content=manifest,
                headers={"Content-Type": OCI_MANIFEST},
            ).raise_for_status()
            while tag not in arrivals.times:
                if time.perf_counter() - started > 30:
                    raise RuntimeError(f"webhook for {tag} never arrived")
                time.sleep(0.002)
            latencies.append(arrivals.times[tag] - started)
    return latencies
