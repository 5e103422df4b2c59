"""The type stubs (_native.pyi) name what the module has, with the same
parameters, and every public name has a docstring (help() reads like the
C++ doc comments)."""

from __future__ import annotations

import ast
import pathlib
import re

import inca
from inca import _native

STUB = pathlib.Path(inca.__file__).with_name("_native.pyi")


def stub_tree():
    return ast.parse(STUB.read_text())


def runtime_parameters(obj) -> list:
    """Parameter names from pybind11's signature line."""
    first = (obj.__doc__ or "").splitlines()[0]
    inside = first[first.index("(") + 1:first.rindex(")")]
    names = re.findall(r"(?:^|, )(\*{0,2}\w+)(?=:|\s*=|,|$)", inside)
    # pybind11 names every **kwargs "kwargs"; the stubs say what they are.
    return ["**" if n.startswith("**") else n for n in names if n != "self"]


def stub_parameters(node: ast.FunctionDef) -> list:
    names = [a.arg for a in node.args.args if a.arg != "self"]
    if node.args.kwarg:
        names.append("**")
    return ["in" if n == "in_" else n for n in names]


def test_stub_classes_and_functions_match_the_module():
    for node in stub_tree().body:
        if isinstance(node, ast.ClassDef):
            cls = getattr(_native, node.name)
            stub_names = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            runtime = {n for n in vars(cls) if not n.startswith("__")}
            assert stub_names - {"__init__"} == runtime, node.name
            for fn in node.body:
                if isinstance(fn, ast.FunctionDef) and fn.name != "__init__":
                    member = getattr(cls, fn.name)
                    if isinstance(member, property):
                        continue
                    assert stub_parameters(fn) == runtime_parameters(member), (node.name, fn.name)
        elif isinstance(node, ast.FunctionDef):
            assert stub_parameters(node) == runtime_parameters(getattr(_native, node.name)), \
                node.name
    functions = {n.name for n in stub_tree().body if isinstance(n, ast.FunctionDef)}
    classes = {n.name for n in stub_tree().body if isinstance(n, ast.ClassDef)}
    public = {n for n in dir(_native) if not n.startswith("__")}
    assert public == functions | classes


def test_world_constructor_signature():
    init = [n for n in stub_tree().body if isinstance(n, ast.ClassDef) and n.name == "World"][0]
    fn = [n for n in init.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"][0]
    assert stub_parameters(fn) == ["preset", "fabric_file", "ranks", "**"]
    assert "preset" in inca.World.__init__.__doc__ and "kwargs" in inca.World.__init__.__doc__


def test_every_public_name_is_documented():
    for name in inca.__all__:
        obj = getattr(inca, name)
        assert obj.__doc__ and len(obj.__doc__.strip()) > 20, name
        if isinstance(obj, type) and obj.__module__ == "inca" and hasattr(_native, name):
            for member, value in vars(obj).items():
                if not member.startswith("_"):
                    assert value.__doc__ and value.__doc__.strip(), f"{name}.{member}"
