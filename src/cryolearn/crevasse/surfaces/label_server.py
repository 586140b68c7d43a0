"""``cryolearn label``: a local web page for labelling OPTICS clusters.

The page shows each cluster's montage (its tiles nearest the cluster centre)
and a few further tiles drawn from the cluster, with one button per class. A
click saves the labels file at once, so a session can stop anywhere and be
continued: the page opens on the existing file.

The server uses only the standard library and binds to loopback only: the
page writes a file on this machine, so nothing else may reach it. Requests
whose ``Host`` is not the loopback address it serves are refused too (a guard
against DNS rebinding), and labels are accepted only as JSON, which a page of
another origin cannot send without the browser asking first.
"""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import re
import socket
from dataclasses import replace
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from cryolearn.crevasse.surfaces.labels import (
    Clustering,
    ClusterLabels,
    LabelsError,
    check_class_names,
    read_labels,
    tile_count_notes,
    validate_labels,
    write_labels,
)
from cryolearn.io.zarrstore import open_group

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20


class LabelServerError(ValueError):
    """The labelling server cannot start as asked (for example, a non-loopback address)."""


def check_loopback(host: str) -> None:
    """Refuse any address that is not loopback (127.0.0.0/8, ::1, or a name resolving only there).

    Raises
    ------
    LabelServerError
        naming the host and what it resolves to.
    """
    if not host:
        raise LabelServerError("refusing to bind to all interfaces: the labelling page "
                               "serves loopback only (use 127.0.0.1)")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as err:
        raise LabelServerError(f"cannot resolve host {host!r}: {err}") from err
    outside = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if outside:
        raise LabelServerError(f"refusing to bind to {host!r} ({', '.join(outside)}): the "
                               "labelling page writes files on this machine and serves "
                               "loopback only (127.0.0.1, ::1, localhost)")


class LabellingSession:
    """The clusters, their pictures and the labels file one server works on.

    Parameters
    ----------
    clusters_store : ``results/clusters/clusters.zarr``
    library_store : ``results/library.zarr`` (tile elevations)
    montage_dir : ``results/clusters/montages``
    labels_path : the labels file to continue (when it exists) and to save
    examples : further tiles shown per cluster, drawn at random from it
    seed : of that draw
    """

    def __init__(self, clusters_store: str | Path, library_store: str | Path,
                 montage_dir: str | Path, labels_path: str | Path, examples: int = 6,
                 seed: int = 0) -> None:
        self.clustering = Clustering.of_store(clusters_store)
        self.clusters_store = str(clusters_store)
        self.library = open_group(library_store)
        self.montage_dir = Path(montage_dir)
        self.labels_path = Path(labels_path)
        self.tile_label = self.clustering.tile_label
        self.central = open_group(clusters_store)["central_tile"][:]
        self.examples = self._draw_examples(examples, seed)
        self.labels = ClusterLabels(fingerprint=self.clustering.fingerprint,
                                    clusters=self.clusters_store)
        if self.labels_path.exists():
            found = read_labels(self.labels_path, self.clustering)
            self.labels = replace(self.labels, labels=found.labels, classes=found.classes)
        self.tile_png = lru_cache(maxsize=2048)(self._render_tile)

    def _draw_examples(self, per_cluster: int, seed: int) -> dict[int, list[int]]:
        rng = np.random.default_rng(seed)
        out = {}
        for cluster in range(self.clustering.n_clusters):
            shown = set(self.central[cluster].tolist()) if len(self.central) else set()
            members = [t for t in np.flatnonzero(self.tile_label == cluster) if t not in shown]
            picked = rng.choice(members, min(per_cluster, len(members)), replace=False)
            out[cluster] = sorted(int(t) for t in picked)
        return out

    def state(self) -> dict[str, Any]:
        """What the page shows: clusters with sizes and tiles, classes, labels, file path."""
        sizes = self.clustering.tiles_per_cluster
        return {
            "labels_path": str(self.labels_path),
            "classes": self.labels.classes,
            "labels": {str(c): name for c, name in self.labels.labels.items()},
            "clusters": [
                {"id": c, "tiles": int(sizes[c]), "examples": self.examples[c],
                 "montage": self.montage_path(c).exists()}
                for c in range(self.clustering.n_clusters)
            ],
        }

    def montage_path(self, cluster: int) -> Path:
        return self.montage_dir / f"cluster_{cluster:04d}.png"

    def save(self, payload: Any) -> dict[str, Any]:
        """Check the page's labels and classes, then write the labels file."""
        if not isinstance(payload, dict) or not isinstance(payload.get("labels", {}), dict):
            raise LabelsError("expected JSON {'labels': {cluster: class}, 'classes': [...]}")
        classes = check_class_names(payload.get("classes") or self.labels.classes, "page")
        labels = validate_labels(payload.get("labels", {}), classes,
                                 self.clustering.n_clusters, "page")
        self.labels = ClusterLabels(labels, classes, self.clustering.fingerprint,
                                    self.clusters_store)
        write_labels(self.labels_path, self.labels, tile_count_notes(self.clustering))
        log.info("saved %d labels to %s", len(labels), self.labels_path)
        return self.state()

    def _render_tile(self, row: int) -> bytes:
        import matplotlib.pyplot as plt

        from cryolearn.crevasse.surfaces.montages import hillshade

        buffer = io.BytesIO()
        plt.imsave(buffer, hillshade(self.library["elevation"][row]), format="png")
        return buffer.getvalue()

    def n_tiles(self) -> int:
        return int(self.library["elevation"].shape[0])


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cryolearn: label clusters</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; background: #f6f7f9; color: #222; }
header { position: sticky; top: 0; background: #f6f7f9; padding: .5em 0; z-index: 1; }
.card { background: white; border-radius: 8px; padding: 1em; margin: 1em 0;
        box-shadow: 0 1px 3px #0002; }
.card h2 { font-size: 1.05em; margin: 0 0 .5em; }
.montage { max-width: 560px; width: 100%; }
.examples img { width: 110px; height: 110px; margin: 2px; }
button.label { scroll-margin-top: 6em; margin: .3em .3em 0 0; padding: .4em .9em;
               border: 1px solid #888; border-radius: 4px; background: #fff; cursor: pointer; }
button.label[aria-pressed=true] { background: #1f5fa8; color: white; border-color: #1f5fa8; }
#status { margin-left: 1em; color: #1b6e2d; }
#status.error { color: #a00; white-space: pre-wrap; }
</style></head>
<body>
<header><strong>Label OPTICS clusters</strong> — saving to <code id="path"></code>
<span id="progress"></span>
<span>· add a class: <input id="new-class" size="14" placeholder="e.g. lake">
<button id="add-class">add</button></span>
<span id="status"></span></header>
<main id="clusters"></main>
<script>
let state = null;
const statusEl = document.getElementById('status');
function show(message, error) {
  statusEl.textContent = message; statusEl.className = error ? 'error' : '';
}
async function call(method, body) {
  const response = await fetch('/api/labels', {method: method,
    headers: {'Content-Type': 'application/json'}, body: body && JSON.stringify(body)});
  const data = await response.json();
  if (!response.ok) throw new Error(data.error);
  return data;
}
function render() {
  document.getElementById('path').textContent = state.labels_path;
  const done = Object.keys(state.labels).length;
  document.getElementById('progress').textContent =
    ` · ${done} of ${state.clusters.length} clusters labelled`;
  const main = document.getElementById('clusters');
  main.replaceChildren();
  for (const cluster of state.clusters) {
    const card = document.createElement('section');
    card.className = 'card'; card.id = `cluster-${cluster.id}`;
    const title = document.createElement('h2');
    title.textContent = `Cluster ${cluster.id} · ${cluster.tiles} tiles`;
    card.append(title);
    const buttons = document.createElement('div');
    for (const name of [...state.classes, null]) {
      const button = document.createElement('button');
      button.className = 'label';
      button.dataset.cluster = cluster.id; button.dataset.label = name ?? '';
      button.textContent = name ?? 'unlabelled';
      const current = state.labels[String(cluster.id)] ?? null;
      button.setAttribute('aria-pressed', String(current === name));
      button.addEventListener('click', () => choose(cluster.id, name));
      buttons.append(button);
    }
    card.append(buttons);
    if (cluster.montage) {
      const img = document.createElement('img');
      img.className = 'montage'; img.loading = 'lazy'; img.src = `/montage/${cluster.id}.png`;
      img.alt = `montage of cluster ${cluster.id}`; card.append(img);
    }
    if (cluster.examples.length) {
      const caption = document.createElement('p');
      caption.textContent = 'further tiles of the cluster, drawn at random:';
      card.append(caption);
    }
    const examples = document.createElement('div'); examples.className = 'examples';
    for (const tile of cluster.examples) {
      const img = document.createElement('img'); img.loading = 'lazy';
      img.src = `/tile/${tile}.png`; img.title = `tile ${tile}`; examples.append(img);
    }
    card.append(examples);
    main.append(card);
  }
}
async function save(labels, classes) {
  try {
    state = await call('POST', {labels: labels, classes: classes});
    render();
    show(`saved ${Object.keys(state.labels).length} labels`, false);
  } catch (err) { show(err.message, true); }
}
function choose(cluster, name) {
  const labels = {...state.labels};
  if (name === null) delete labels[String(cluster)]; else labels[String(cluster)] = name;
  save(labels, state.classes);
}
document.getElementById('add-class').addEventListener('click', () => {
  const input = document.getElementById('new-class');
  const name = input.value.trim();
  if (name) { input.value = ''; save(state.labels, [...state.classes, name]); }
});
call('GET').then(data => { state = data; render(); show('ready', false); })
  .catch(err => show(err.message, true));
</script>
</body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    session: LabellingSession
    allowed_hosts: frozenset[str]
    server_version = "cryolearn-label"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, content: Any) -> None:
        self._send(status, json.dumps(content).encode(), "application/json")

    def _host_allowed(self) -> bool:
        if self.headers.get("Host", "") in self.allowed_hosts:
            return True
        self._json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
        return False

    def do_GET(self) -> None:
        if not self._host_allowed():
            return
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, PAGE.encode(), "text/html; charset=utf-8")
        elif path == "/api/labels":
            self._json(HTTPStatus.OK, self.session.state())
        elif match := re.fullmatch(r"/montage/(\d+)\.png", path):
            self._montage(int(match.group(1)))
        elif match := re.fullmatch(r"/tile/(\d+)\.png", path):
            self._tile(int(match.group(1)))
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page {path}"})

    def _montage(self, cluster: int) -> None:
        png = self.session.montage_path(cluster)
        if cluster >= self.session.clustering.n_clusters or not png.exists():
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no montage of cluster {cluster}"})
        else:
            self._send(HTTPStatus.OK, png.read_bytes(), "image/png")

    def _tile(self, row: int) -> None:
        if row >= self.session.n_tiles():
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no tile {row}"})
        else:
            self._send(HTTPStatus.OK, self.session.tile_png(row), "image/png")

    def do_POST(self) -> None:
        if not self._host_allowed():
            return
        if self.path != "/api/labels":
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {self.path}"})
            return
        if self.headers.get_content_type() != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send labels as JSON"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            return
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
            self._json(HTTPStatus.OK, self.session.save(payload))
        except (json.JSONDecodeError, LabelsError) as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(err)})


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True


def make_server(session: LabellingSession, host: str = "127.0.0.1", port: int = 8765
                ) -> ThreadingHTTPServer:
    """A server for ``session`` on a loopback address (port 0: any free port).

    Raises
    ------
    LabelServerError
        for any address that is not loopback.
    """
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("_Server", (_LoopbackServer,), {"address_family": family})
    handler = type("_SessionHandler", (_Handler,), {"session": session})
    server = server_class((host, port), handler)
    bound_port = server.server_address[1]
    names = {host, "127.0.0.1", "localhost", "[::1]"} if host != "::1" else {"[::1]", "localhost"}
    handler.allowed_hosts = frozenset(f"{name}:{bound_port}" for name in names)
    return server


def page_url(server: ThreadingHTTPServer) -> str:
    """The address a browser opens."""
    host, port = server.server_address[:2]
    return f"http://[{host}]:{port}/" if ":" in str(host) else f"http://{host}:{port}/"
