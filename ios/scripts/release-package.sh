#!/usr/bin/env bash
# Makes the Swift package that apps add by URL. SwiftPM only resolves a package whose
# manifest is at a repository's root, and this repository's ios/Package.swift points at a
# local build; so a release is a separate package repository holding:
#
#   Package.swift                   TwostepFFIC as .binaryTarget(url:checksum:)
#   Sources/TwostepFFI/TwostepFFI.swift   the bindings generated from the same build
#   Sources/TwostepKit/*.swift      the wrapper, as in ios/Sources/TwostepKit
#   README.md
#
# plus the zipped XCFramework to upload to the URL the manifest names.
#
#   ios/scripts/release-package.sh --version 1.4.0 --url-base https://downloads.example.com/twostep
#
# builds the XCFramework (ios/scripts/build-xcframework.sh: macOS, `mobile` profile), zips it
# to OUT/TwostepFFIC-VERSION.xcframework.zip, computes its checksum (`swift package
# compute-checksum`; where swift is missing, the same value: the SHA-256 of the zip), and
# writes the package to OUT/package (OUT defaults to ios/build/release). Then: upload the zip
# to URL-BASE/TwostepFFIC-VERSION.xcframework.zip, commit OUT/package to the package
# repository, tag it VERSION.
#
# Options for a prebuilt framework (CI that builds on one machine and publishes on another,
# and the tests on Linux): --xcframework DIR (zip it here), --xcframework-zip FILE (use as is);
# both with --bindings FILE (the TwostepFFI.swift of that same build).
set -euo pipefail
cd "$(dirname "$0")/../.."            # repository root

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
fail() { echo "release-package: $*" >&2; exit 1; }

VERSION="" URL_BASE="" OUT="ios/build/release" XCFRAMEWORK="" XCFRAMEWORK_ZIP="" BINDINGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="${2:-}"; shift 2 ;;
    --url-base) URL_BASE="${2:-}"; shift 2 ;;
    --out) OUT="${2:-}"; shift 2 ;;
    --xcframework) XCFRAMEWORK="${2:-}"; shift 2 ;;
    --xcframework-zip) XCFRAMEWORK_ZIP="${2:-}"; shift 2 ;;
    --bindings) BINDINGS="${2:-}"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "release-package: unknown option $1" >&2; usage ;;
  esac
done

[ -n "$VERSION" ] && [ -n "$URL_BASE" ] || usage
# SwiftPM resolves packages by semantic-version tags.
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || fail "--version $VERSION is not a semantic version (1.4.0, 1.4.0-rc.1)"
# SwiftPM downloads binary targets over HTTPS only.
[[ "$URL_BASE" =~ ^https://[^[:space:]\"\\]+$ ]] || fail "--url-base must be an https:// URL, got '$URL_BASE'"
[ -z "$XCFRAMEWORK" ] || [ -z "$XCFRAMEWORK_ZIP" ] || fail "give --xcframework or --xcframework-zip, not both"

ZIP_NAME="TwostepFFIC-$VERSION.xcframework.zip"
URL="${URL_BASE%/}/$ZIP_NAME"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ZIP="$OUT/$ZIP_NAME"
PACKAGE="$OUT/package"

# 1. The XCFramework and its bindings, from one build.
if [ -z "$XCFRAMEWORK" ] && [ -z "$XCFRAMEWORK_ZIP" ]; then
  [ -z "$BINDINGS" ] || fail "--bindings only with a prebuilt --xcframework or --xcframework-zip"
  ios/scripts/build-xcframework.sh
  XCFRAMEWORK=ios/build/TwostepFFIC.xcframework
  BINDINGS=ios/Sources/TwostepFFI/TwostepFFI.swift
fi
[ -n "$BINDINGS" ] || fail "--bindings FILE is required with a prebuilt framework (the TwostepFFI.swift of that build)"
[ -f "$BINDINGS" ] || fail "no bindings at $BINDINGS"
grep -q 'TwostepFFIC' "$BINDINGS" || fail "$BINDINGS is not the TwostepFFI bindings (it never names TwostepFFIC)"

# 2. The zip.
rm -f "$ZIP"
if [ -n "$XCFRAMEWORK" ]; then
  [ -d "$XCFRAMEWORK" ] && [ -f "$XCFRAMEWORK/Info.plist" ] || fail "$XCFRAMEWORK is not an XCFramework (no Info.plist)"
  [ "$(basename "$XCFRAMEWORK")" = TwostepFFIC.xcframework ] || fail "the framework must be named TwostepFFIC.xcframework"
  if command -v ditto >/dev/null 2>&1; then
    # Apple's archiver: keeps the framework's symlinks and metadata as Xcode expects them.
    ditto -c -k --sequesterRsrc --keepParent "$XCFRAMEWORK" "$ZIP"
  else
    (cd "$(dirname "$XCFRAMEWORK")" && zip -q -r -y -X "$ZIP" TwostepFFIC.xcframework)
  fi
else
  [ -f "$XCFRAMEWORK_ZIP" ] || fail "no zip at $XCFRAMEWORK_ZIP"
  # The listing first: `unzip | grep -q` under pipefail fails when grep stops reading early.
  listing=$(unzip -Z1 "$XCFRAMEWORK_ZIP") || fail "$XCFRAMEWORK_ZIP is not a zip archive"
  grep -qx 'TwostepFFIC\.xcframework/Info\.plist' <<<"$listing" \
    || fail "$XCFRAMEWORK_ZIP does not hold TwostepFFIC.xcframework/Info.plist at its top"
  cp "$XCFRAMEWORK_ZIP" "$ZIP"
fi

# 3. The checksum SwiftPM verifies after downloading: the SHA-256 of the zip, hex.
if command -v sha256sum >/dev/null 2>&1; then
  SHA256=$(sha256sum "$ZIP" | cut -d' ' -f1)
else
  SHA256=$(shasum -a 256 "$ZIP" | cut -d' ' -f1)
fi
if command -v swift >/dev/null 2>&1; then
  CHECKSUM=$(cd "$OUT" && swift package compute-checksum "$ZIP")
  [ "$CHECKSUM" = "$SHA256" ] || fail "swift package compute-checksum says $CHECKSUM, sha256 says $SHA256"
else
  CHECKSUM=$SHA256
fi
[[ "$CHECKSUM" =~ ^[0-9a-f]{64}$ ]] || fail "unexpected checksum '$CHECKSUM'"

# 4. The package repository's contents.
rm -rf "$PACKAGE"
mkdir -p "$PACKAGE/Sources/TwostepFFI" "$PACKAGE/Sources/TwostepKit"
cp "$BINDINGS" "$PACKAGE/Sources/TwostepFFI/TwostepFFI.swift"
cp ios/Sources/TwostepKit/*.swift "$PACKAGE/Sources/TwostepKit/"
cat > "$PACKAGE/Package.swift" <<EOF
// swift-tools-version:5.9
//
// TwostepKit $VERSION: the twostep core for iOS (and macOS). Written by
// ios/scripts/release-package.sh in the twostep repository; do not edit here.
//   TwostepFFIC  the Rust library as an XCFramework, downloaded from the URL below (SwiftPM
//                checks it against the checksum, the SHA-256 of the zip);
//   TwostepFFI   the Swift bindings uniffi generated from that same build;
//   TwostepKit   what apps import.
import PackageDescription

let package = Package(
    name: "TwostepKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "TwostepKit", targets: ["TwostepKit"]),
    ],
    targets: [
        .binaryTarget(
            name: "TwostepFFIC",
            url: "$URL",
            checksum: "$CHECKSUM"
        ),
        .target(name: "TwostepFFI", dependencies: ["TwostepFFIC"], path: "Sources/TwostepFFI"),
        .target(name: "TwostepKit", dependencies: ["TwostepFFI"], path: "Sources/TwostepKit"),
    ]
)
EOF
cat > "$PACKAGE/README.md" <<EOF
# TwostepKit $VERSION

The twostep two-step authentication core for iOS 15+ and macOS 12+, as a Swift package.

In Xcode: File > Add Package Dependencies, this repository's URL, version $VERSION; or in a
manifest: \`.package(url: "<this repository>", exact: "$VERSION")\`, product \`TwostepKit\`.

The Rust library is the binary target \`TwostepFFIC\`: $URL
(SHA-256 \`$CHECKSUM\`). Generated by \`ios/scripts/release-package.sh\` from the twostep
repository, where the sources, the documentation (\`ios/README.md\`) and the tests live.
EOF

echo "release-package: $PACKAGE (TwostepKit $VERSION)"
echo "  upload   $ZIP"
echo "  to       $URL"
echo "  checksum $CHECKSUM"
echo "then commit $PACKAGE to the package repository and tag it $VERSION"
