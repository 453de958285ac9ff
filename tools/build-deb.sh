#!/bin/bash
# Build the Debian package from this tree, outside it, and run lintian.
#   tools/build-deb.sh [OUTDIR]     (default: build/deb)
# Prints the .deb's path last. Needs: tools/install-deps.sh --test.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/deb}
version=$(cat "$top/VERSION")
[ "$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)" = "$version" ] || {
	echo "debian/changelog's version is not VERSION ($version): add an entry" >&2
	exit 1
}
work=$(mktemp -d /tmp/cell-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The tracked files only (a fresh clone's view), else everything but build/.
mkdir "$work/cell-$version"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$work/cell-$version")
else
	tar -C "$top" --exclude=./build -cf - . | tar -C "$work/cell-$version" -xf -
fi
(cd "$work/cell-$version" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
	tail -40 "$work/build.log" >&2
	echo "dpkg-buildpackage failed (log above)" >&2
	exit 1
}
deb=$(ls "$work"/cell_"$version"_*.deb)
# Errors and warnings fail the build; each override in debian/ says why.
lintian --fail-on error,warning --info "$deb" "$work"/*.changes >&2
mkdir -p "$out"
cp "$deb" "$out/"
echo "$out/$(basename "$deb")"
