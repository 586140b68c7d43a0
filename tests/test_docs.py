"""The documentation site builds with --strict: every page, link, snippet and docstring."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def nav_pages(nav: list) -> list[str]:
    pages = []
    for entry in nav:
        for value in entry.values():
            pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
    if not Path(mkdocs).exists():
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def page_html(site: Path, page: str) -> str:
    stem = page.removesuffix(".md")
    path = site / "index.html" if stem == "index" else site / stem / "index.html"
    return html.unescape(path.read_text())


def test_every_page_is_in_the_nav_and_built(site):
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    pages = nav_pages(config["nav"])
    on_disk = [p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md")]
    assert sorted(pages) == sorted(on_disk)
    for page in pages:
        assert "<article" in page_html(site, page), page


def test_the_api_reference_renders_the_docstrings(site):
    from cryolearn.crevasse.maps.probability import probability_store
    from cryolearn.crevasse.surfaces.som import fit_som_store

    for page, function in [("api/crevasse-surfaces.md", fit_som_store),
                           ("api/crevasse-maps.md", probability_store)]:
        text = re.sub(r"<[^>]+>", "", page_html(site, page))
        assert function.__name__ in text
        assert function.__doc__.splitlines()[0].strip().replace("``", "") in text


def test_configuration_and_benchmark_pages_are_the_repositorys_own_files(site):
    for page, source in [("configuration.md", "config/README.md"),
                         ("benchmarks.md", "bench/README.md")]:
        heading = next(line for line in (REPO / source).read_text().splitlines()
                       if line.startswith("# "))
        assert heading[2:].strip() in page_html(site, page), source
