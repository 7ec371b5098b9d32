#!/usr/bin/env python3
"""Fails when the crate's modules import each other in a circle.

A file depends on another when its code names a module the other file holds: a `use`
or a path through `crate::`, `super::` or `self::`, or a child module it declares
(`mod x;` then `x::f()`). A `pub use` re-export is not a dependency: it only names what
a module offers. Nor is a module naming its own ancestors: a parent is its children's
namespace, holding what they share (the `Store` that `impl Store` blocks extend, the
trait every task kind implements), so only a parent reaching down into a child, and
modules reaching across, make arrows.

Standard library only; run from the project's root: `python3 .ci/module-circles.py`.
"""

import re
import sys
from pathlib import Path

ROOT = Path("src")
PATH = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", re.M)
REEXPORT = re.compile(r"^\s*pub(?:\([^)]*\))?\s+use\s[^;]*;", re.M | re.S)
USE_GROUP = re.compile(r"\buse\s+((?:crate|super|self)::[^;]*);", re.S)


# Comments, strings and character literals, in one pass so that each hides the others.
NOISE = re.compile(
    r"//[^\n]*|/\*.*?\*/"
    r'|(?<![A-Za-z0-9_])r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"'
    r"|'(?:\\.|[^'\\])'",
    re.S,
)


def strip_noise(text):
    """Code without comments, strings and `#[cfg(test)]` modules."""
    text = NOISE.sub(lambda m: '""' if m.group(0).endswith('"') else " ", text)
    test_module = re.search(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{", text)
    if test_module:
        text = text[: test_module.start()]
    return text


def module_of(path):
    """`src/server/store/claims.rs` -> ("server", "store", "claims")."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts in (["lib"], ["main"]):
        return ()
    if parts[-1] == "mod":
        parts.pop()
    return tuple(parts)


def expand_use(group):
    """`super::{a::{B, C}, d}` -> ["super::a::B", "super::a::C", "super::d"]."""
    group = re.sub(r"\s+", "", group)
    match = re.match(r"^(.*?)::\{(.*)\}$", group)
    if not match:
        return [re.sub(r"\bas\b.*$", "", group)]
    prefix, inner = match.groups()
    items, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += char == "{"
        depth -= char == "}"
        current += char
    items.append(current)
    paths = []
    for item in filter(None, items):
        if item == "self":
            paths.append(prefix)
        else:
            paths.extend(expand_use(f"{prefix}::{item}"))
    return paths


def resolve(path, here, modules):
    """The deepest module of `modules` that `path`, written in module `here`, names."""
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    else:
        base = here
        rest = parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    target = base
    for name in rest:
        if target + (name,) in modules:
            target = target + (name,)
        else:
            break
    return target


def dependencies(files):
    modules = {module_of(path): path for path in files}
    edges = {module: set() for module in modules}
    for module, path in modules.items():
        code = REEXPORT.sub("", strip_noise(path.read_text(encoding="utf-8")))
        named = []
        for group in USE_GROUP.findall(code):
            named.extend(expand_use(group))
        code = USE_GROUP.sub("", code)
        named.extend(PATH.findall(code))
        for child in MOD.findall(code):
            if re.search(rf"(?<![:\w]){child}::", code):
                named.append(f"self::{child}")
        for name in named:
            target = resolve(name, module, modules)
            if target in modules and target != module[: len(target)]:
                edges[module].add(target)
    return modules, edges


def circles(edges):
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    sys.setrecursionlimit(10_000)

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main():
    files = sorted(ROOT.rglob("*.rs"))
    modules, edges = dependencies(files)
    found = circles(edges)
    for component in found:
        members = set(component)
        print("module circle:", " <-> ".join(sorted(str(modules[m]) for m in members)),
              file=sys.stderr)
        for member in sorted(members):
            inside = sorted(str(modules[t]) for t in edges[member] if t in members)
            print(f"  {modules[member]} uses {', '.join(inside)}", file=sys.stderr)
    if found:
        print("module-circles: imports must run one way; move what both sides need into a "
              "module of its own", file=sys.stderr)
        return 1
    print(f"module-circles: {len(modules)} modules, no circle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
