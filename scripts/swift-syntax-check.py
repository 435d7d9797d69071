#!/usr/bin/env python3
"""Syntax-checks Swift files with the tree-sitter Swift grammar (no Swift compiler here).

Usage: swift-syntax-check.py FILE.swift...

Fails (exit 1) on any ERROR or MISSING node and prints where. Two constructs that are valid
Swift but that the grammar misreads are neutralized first, without changing line numbers:
  - `#if swift(>=5.8)` / `#endif` around an attribute (uniffi wraps `@_documentation` so);
  - `{ () }`, an empty closure returning the empty tuple.
"""
import re
import sys

import tree_sitter
import tree_sitter_swift

LANGUAGE = tree_sitter.Language(tree_sitter_swift.language())

# `#if swift(>=5.8)\n    @_documentation(visibility: private)\n#endif` -> the attribute alone.
VERSIONED_ATTRIBUTE = re.compile(r"#if swift\(>=[0-9.]+\)\n(\s*@[A-Za-z_]+(?:\([^)\n]*\))?)\n#endif")
EMPTY_TUPLE_CLOSURE = re.compile(r"\{\s*\(\)\s*\}")


def neutralize(source: str) -> str:
    source = VERSIONED_ATTRIBUTE.sub(lambda m: "\n" + m.group(1) + "\n", source)
    return EMPTY_TUPLE_CLOSURE.sub(lambda m: "{ " + " " * (len(m.group(0)) - 4) + " }", source)


def problems(tree):
    """Yields (kind, node) for every ERROR and MISSING node."""
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error:
            yield "ERROR", node
        elif node.is_missing:
            yield "MISSING", node
        if node.has_error:
            stack.extend(node.children)


def main(paths):
    parser = tree_sitter.Parser(LANGUAGE)
    failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            source = neutralize(f.read())
        tree = parser.parse(source.encode("utf-8"))
        found = sorted(problems(tree), key=lambda p: p[1].start_point)
        lines = source.splitlines()
        for kind, node in found[:10]:
            row, col = node.start_point
            text = lines[row] if row < len(lines) else ""
            print(f"{path}:{row + 1}:{col + 1}: {kind} {node.type}\n    {text.strip()}")
        if found:
            failed += 1
        else:
            print(f"ok  {path} ({len(lines)} lines)")
    if failed:
        print(f"swift syntax: {failed} of {len(paths)} files have errors")
        return 1
    print(f"swift syntax: {len(paths)} files parse without errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
