"""The libyaml loader and the pure-Python loader give the same data, lines and errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.errors import ConfigError
from gatekeeper.policy import _yaml
from gatekeeper.policy._yaml import LineDict, LineList, load_yaml

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(
    p for p in REPO.glob("**/*.y*ml") if ".venv" not in p.parts and ".git" not in p.parts
)

CASES = {
    "clock": "freeze:\n  from: 16:00\n  to: 09:30\n  days: [mon, tue]\n",
    "anchors": "base: &b {strict: true, n: 1.5}\nprod:\n  <<: *b\n  m: 2\n",
    "nested": "gates:\n  - a: 1\n    b:\n      - x\n      - {y: [1, 2, {z: null}]}\n  - 3\n",
    "scalars": "a: yes\nb: ~\nc: 0x1f\nd: 1_000\ne: 2026-11-30T12:00:00Z\nf: 'q: r'\n",
    "multiline": "text: |\n  one\n  two\nfolded: >\n  three\n  four\n",
    "empty": "",
    "unicode": 'name: "caf\\u00e9 \u2603"\n',
}
BROKEN = {
    "duplicate": "a: 1\nb: 2\na: 3\n",
    "indent": "a:\n  b: 1\n c: 2\n",
    "tab": "a:\n\tb: 1\n",
    "unclosed": "a: [1, 2\nb: 3\n",
    "unhashable": "? [1, 2]\n: x\n",
    "bad-alias": "a: *nothing\n",
}


def shape(data: Any) -> Any:
    """The data with every line number spelled out, so a comparison covers both."""
    if isinstance(data, LineDict):
        return ("map", data.line, [(k, data.key_lines[k], shape(v)) for k, v in data.items()])
    if isinstance(data, LineList):
        return (
            "seq",
            data.line,
            [(n, shape(v)) for n, v in zip(data.item_lines, data, strict=True)],
        )
    return (type(data).__name__, data)


def test_libyaml_is_used_when_present() -> None:
    assert hasattr(yaml, "CSafeLoader"), "this environment's PyYAML lacks libyaml"
    assert len(_yaml.LOADERS) == 2
    assert issubclass(_yaml.LOADERS[0], yaml.CSafeLoader)
    assert issubclass(_yaml.LOADERS[1], yaml.SafeLoader)


def _both(path: Path) -> list[Any]:
    return [shape(load_yaml(path, loader)) for loader in _yaml.LOADERS]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_repository_yaml_loads_identically(path: Path) -> None:
    fast, pure = _both(path)
    assert fast == pure


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_load_identically(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yml"
    path.write_text(CASES[name], encoding="utf-8")
    fast, pure = _both(path)
    assert fast == pure
    if name == "clock":
        assert fast[2][0][2][2][0][2] == ("str", "16:00")  # a clock time stays a string


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_errors_name_the_same_line(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yml"
    path.write_text(BROKEN[name], encoding="utf-8")
    wheres: list[str] = []
    for loader in _yaml.LOADERS:
        with pytest.raises(ConfigError) as info:
            load_yaml(path, loader)
        wheres.append(str(info.value.where))
    assert wheres[0] == wheres[1]
    assert wheres[0].startswith(f"{path}:")


def test_the_default_loader_is_the_fast_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[type] = []
    real = yaml.load

    def spy(stream: Any, Loader: type) -> Any:  # noqa: N803 - yaml's own argument name
        used.append(Loader)
        return real(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "load", spy)
    path = tmp_path / "p.yml"
    path.write_text("a: 1\n")
    load_yaml(path)
    assert used == [_yaml.LOADERS[0]]
