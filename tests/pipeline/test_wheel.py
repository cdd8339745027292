"""The released artefacts: sdist and wheel build, install alone, and run the quick start."""

from __future__ import annotations

import json
import subprocess
import tarfile
import zipfile
from configparser import ConfigParser
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

from tests.conftest import REPO
from tests.pipeline.conftest import Dists, clean_env
from tests.test_readme import BLOCKS, gatekeeper_args

NAME = "release_gatekeeper-0.1.0"


def _metadata(dists: Dists) -> dict[str, list[str]]:
    with zipfile.ZipFile(dists.wheel) as wheel:
        text = wheel.read(f"{NAME}.dist-info/METADATA").decode()
    message = Parser().parsestr(text)
    return {key: message.get_all(key) or [] for key in set(message.keys())}


def test_the_distribution_is_release_gatekeeper_with_its_metadata(dists: Dists) -> None:
    assert dists.wheel.name == f"{NAME}-py3-none-any.whl"
    assert dists.sdist.name == f"{NAME}.tar.gz"
    meta = _metadata(dists)
    assert meta["Name"] == ["release-gatekeeper"]
    assert meta["License-Expression"] == ["MIT"]
    assert meta["License-File"] == ["LICENSE"]
    assert "Typing :: Typed" in meta["Classifier"]
    assert any(url.startswith("Source, https://") for url in meta["Project-URL"])
    # the dev extra names this distribution, not the unrelated `gatekeeper` on PyPI
    requires = {str(Requirement(text)) for text in meta["Requires-Dist"]}
    assert 'release-gatekeeper[server]; extra == "dev"' in requires
    assert not [r for r in requires if r.startswith("gatekeeper")]
    assert meta["Requires-Python"] == [">=3.11"]


def _package_files(root: Path) -> set[str]:
    """Every file of the package in a source tree, as a wheel or sdist names it."""
    package = root / "gatekeeper"
    files = (p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return {p.relative_to(root).as_posix() for p in files}


def test_the_wheel_holds_the_package_the_command_and_the_license(
    dists: Dists, source_repo: Path
) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
        entry_points = wheel.read(f"{NAME}.dist-info/entry_points.txt").decode()
    # every file of the package, data such as py.typed included, and nothing else
    assert {n for n in names if n.startswith("gatekeeper/")} == _package_files(source_repo)
    assert "gatekeeper/py.typed" in names
    assert f"{NAME}.dist-info/licenses/LICENSE" in names
    scripts = ConfigParser()
    scripts.read_string(entry_points)
    assert dict(scripts["console_scripts"]) == {"gatekeeper": "gatekeeper._startup:run"}
    assert {n.split("/")[0] for n in names} == {"gatekeeper", f"{NAME}.dist-info"}
    license_text = (REPO / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "Permission is hereby granted" in license_text


def test_the_sdist_carries_the_sources_the_wheel_was_built_from(
    dists: Dists, source_repo: Path
) -> None:
    with tarfile.open(dists.sdist) as sdist:
        names = {m.name.removeprefix(f"{NAME}/") for m in sdist.getmembers() if m.isfile()}
    assert {"pyproject.toml", "README.md", "LICENSE", "gatekeeper/py.typed"} <= names
    packaged = {n for n in names if n.startswith("gatekeeper/")}
    assert packaged == _package_files(source_repo)


def test_the_installed_wheel_runs_the_quick_start_outside_the_repository(
    wheel_venv: Path, tmp_path: Path
) -> None:
    """The README's first command, from a directory that is not this checkout: the
    store and the policy it reads are the ones shipped in the repository."""
    (line,) = BLOCKS[0].strip().splitlines()
    args = [str(REPO / a) if a == "examples/incidents" else a for a in gatekeeper_args(line)]
    assert str(REPO / "examples" / "incidents") in args
    report = tmp_path / "report.json"
    env = clean_env(GATEKEEPER_POLICY=str(REPO / "policies"))
    where = subprocess.run(
        [str(wheel_venv / "python"), "-c", "import gatekeeper; print(gatekeeper.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(wheel_venv.parent), where.stdout
    result = subprocess.run(
        [str(wheel_venv / "gatekeeper"), *args, "--json", str(report)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("gatekeeper: BLOCK (exit 1)")
    data = json.loads(report.read_text())
    assert data["decision"] == "block"
    assert data["services"] == ["checkout", "payments"]
    version = subprocess.run(
        [str(wheel_venv / "gatekeeper"), "--version"], env=env, capture_output=True, text=True
    )
    assert version.returncode == 0 and "0.1.0" in version.stdout
