# Pinned versions of the non-Rust tools the tests use; sourced by scripts/*.sh.
# uniffi itself is pinned in bindings/Cargo.toml and bindings/uniffi-bindgen/Cargo.toml (=0.32.2).
KOTLIN_COMPILER_VERSION=2.4.20   # npm package kotlin-compiler: kotlinc, stdlib, kotlin-test, kotlinx-coroutines
TREE_SITTER_VERSION=0.25.2       # PyPI tree-sitter (Python bindings)
TREE_SITTER_SWIFT_VERSION=0.7.4  # PyPI tree-sitter-swift (the Swift grammar)

# Where they go (gitignored).
TOOLS_DIR="${TWOSTEP_TOOLS_DIR:-$PWD/.tools}"
KOTLIN_HOME="$TOOLS_DIR/kotlin/node_modules/kotlin-compiler"
TOOLS_VENV="$TOOLS_DIR/venv"
