"""The labelling page: loopback only, its JSON API, and a person's clicks in headless Chromium."""

from __future__ import annotations

import http.client
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers import write_clustering

from cryolearn.cli import main
from cryolearn.crevasse.surfaces.label_server import (
    LabellingSession,
    LabelServerError,
    check_loopback,
    make_server,
    page_url,
)
from cryolearn.crevasse.surfaces.labels import Clustering, ClusterLabels, read_labels, write_labels


@pytest.fixture
def clustering(tmp_path: Path) -> dict[str, Path]:
    paths = write_clustering(tmp_path, np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, -1]), 3)
    paths["labels"] = tmp_path / "cluster_labels.yaml"
    return paths


@pytest.fixture
def served(clustering: dict[str, Path]) -> Iterator[tuple[str, int, LabellingSession]]:
    session = LabellingSession(clustering["clusters"], clustering["library"],
                               clustering["montages"], clustering["labels"], examples=2)
    server = make_server(session, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield page_url(server), server.server_address[1], session
    finally:
        server.shutdown()
        server.server_close()


def request(port: int, method: str, path: str, body: object = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(headers or {})}
    connection.request(method, path, body=data, headers=sent)
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.0.2.10", "8.8.8.8"])
def test_server_refuses_to_bind_anything_but_loopback(host, clustering):
    with pytest.raises(LabelServerError, match="refusing to bind"):
        check_loopback(host)
    session = LabellingSession(clustering["clusters"], clustering["library"],
                               clustering["montages"], clustering["labels"])
    with pytest.raises(LabelServerError):
        make_server(session, host, 0)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1.2.3"])
def test_loopback_addresses_are_accepted(host):
    check_loopback(host)


def test_cli_label_refuses_a_public_bind_with_exit_status_one(clustering, capsys):
    code = main(["label", "--clusters", str(clustering["clusters"]),
                 "--library", str(clustering["library"]),
                 "--montages", str(clustering["montages"]),
                 "--labels", str(clustering["labels"]), "--host", "0.0.0.0"])
    assert code == 1
    assert "refusing to bind" in capsys.readouterr().err


def test_api_saves_labels_and_rejects_bad_ones_listing_them(served, clustering):
    _, port, _ = served
    status, body = request(port, "GET", "/api/labels")
    state = json.loads(body)
    assert status == 200 and [c["tiles"] for c in state["clusters"]] == [3, 2, 4]
    assert all(len(c["examples"]) <= 2 for c in state["clusters"])
    status, body = request(port, "POST", "/api/labels",
                           {"labels": {"0": "crevasse", "2": "not_crevasse"},
                            "classes": ["crevasse", "not_crevasse"]})
    assert status == 200
    saved = read_labels(clustering["labels"], Clustering.of_store(clustering["clusters"]))
    assert saved.labels == {0: "crevasse", 2: "not_crevasse"}
    status, body = request(port, "POST", "/api/labels",
                           {"labels": {"0": "lake", "9": "crevasse"}})
    error = json.loads(body)["error"]
    assert status == 400 and "unknown label 'lake'" in error and "cluster '9'" in error
    assert read_labels(clustering["labels"]).labels == {0: "crevasse", 2: "not_crevasse"}


def test_api_refuses_foreign_hosts_and_non_json(served):
    _, port, _ = served
    status, _ = request(port, "GET", "/api/labels", headers={"Host": "evil.example:80"})
    assert status == 403
    status, _ = request(port, "POST", "/api/labels", {"labels": {}},
                        headers={"Content-Type": "text/plain"})
    assert status == 415


def test_pictures_are_served(served):
    _, port, session = served
    status, body = request(port, "GET", "/montage/1.png")
    assert status == 200 and body.startswith(b"\x89PNG")
    tile = session.examples[2][0]
    status, body = request(port, "GET", f"/tile/{tile}.png")
    assert status == 200 and body.startswith(b"\x89PNG")
    assert request(port, "GET", "/tile/999.png")[0] == 404
    assert request(port, "GET", "/montage/7.png")[0] == 404


def test_page_continues_an_existing_labels_file(clustering):
    fingerprint = Clustering.of_store(clustering["clusters"]).fingerprint
    write_labels(clustering["labels"], ClusterLabels({1: "not_crevasse"},
                                                     fingerprint=fingerprint))
    session = LabellingSession(clustering["clusters"], clustering["library"],
                               clustering["montages"], clustering["labels"])
    assert session.state()["labels"] == {"1": "not_crevasse"}


# --------------------------------------------------------------- browser
def chromium_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is not installed (pip install selenium)")
    paths = chromium_paths()
    if paths is None:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    "(`.ci/run` does)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.timeout(120)
def test_a_person_labels_two_clusters_in_the_browser(served, clustering, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as expected
    from selenium.webdriver.support.ui import WebDriverWait

    url, _, _ = served
    wait = WebDriverWait(browser, 20)
    browser.get(url)
    wait.until(expected.text_to_be_present_in_element((By.ID, "status"), "ready"))
    cards = browser.find_elements(By.CSS_SELECTOR, "section.card")
    assert len(cards) == 3
    assert browser.find_elements(By.CSS_SELECTOR, "#cluster-0 img.montage")

    def click(cluster: int, label: str, saved: int) -> None:
        button = f'button[data-cluster="{cluster}"][data-label="{label}"]'
        element = browser.find_element(By.CSS_SELECTOR, button)
        # as a person scrolls: the button away from the sticky header
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        wait.until(expected.text_to_be_present_in_element((By.ID, "status"),
                                                          f"saved {saved} labels"))
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, button)
                   .get_attribute("aria-pressed") == "true")

    click(0, "crevasse", 1)
    click(2, "not_crevasse", 2)
    saved = read_labels(clustering["labels"], Clustering.of_store(clustering["clusters"]))
    assert saved.labels == {0: "crevasse", 2: "not_crevasse"}
    assert saved.fingerprint == Clustering.of_store(clustering["clusters"]).fingerprint

    # a new class, then a cluster labelled with it; a reload shows what was saved
    browser.find_element(By.ID, "new-class").send_keys("lake")
    browser.find_element(By.ID, "add-class").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, 'button[data-label="lake"]'))
    click(1, "lake", 3)
    browser.refresh()
    wait.until(expected.text_to_be_present_in_element((By.ID, "progress"), "3 of 3"))
    saved = read_labels(clustering["labels"])
    assert saved.labels == {0: "crevasse", 1: "lake", 2: "not_crevasse"}
    assert saved.classes == ["crevasse", "not_crevasse", "lake"]
