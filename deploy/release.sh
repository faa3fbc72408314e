#!/bin/sh
# Makes the release tarball of the built agent (the JVM variant: the Quarkus application and its launcher):
#
#   ./mvnw -B package -DskipTests && deploy/release.sh          # -> target/release/binhost-agent-<version>.tar.gz
#
# Options: --app DIR (the built quarkus-app, default target/quarkus-app), --out DIR (default target/release),
#          --version V (default: the pom's version without -SNAPSHOT).
# The tarball holds one directory, binhost-agent-<version>/, laid out as the project is, so deploy/install.sh
# installs from it as from a checkout (deploy/install.sh --destdir /tmp/root) and the Gentoo ebuild
# (deploy/gentoo) installs its files:
#   quarkus-app/            the application (quarkus-run.jar, lib/, app/, quarkus/; app.aot when built with JDK 25)
#   deploy/bin/binhost-agent    the launcher (/usr/bin/binhost-agent)
#   deploy/install.sh, deploy/openrc/, deploy/systemd/, deploy/monitoring/
#   config/binhost-agent.properties (every key, commented), README.md
# Files keep their mtimes (the JDK 25 AOT cache is used only with the jars it was trained with); owner and group are
# root, modes as in the project, entries sorted.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
app="$repo/target/quarkus-app"
out="$repo/target/release"
version=""

while [ $# -gt 0 ]; do
	case "$1" in
		--app) app="$2"; shift 2 ;;
		--out) out="$2"; shift 2 ;;
		--version) version="$2"; shift 2 ;;
		-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
		*) echo "release.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
if [ -z "$version" ]; then
	version=$(sed -n '/<artifactId>binhost-agent<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p;q}' "$repo/pom.xml")
	version=${version%-SNAPSHOT}
fi
case "$version" in
	'' | *[!0-9A-Za-z._]*) echo "release.sh: not a version: '$version'" >&2; exit 2 ;;
esac
if [ ! -r "$app/quarkus-run.jar" ]; then
	echo "release.sh: no built agent at $app (run ./mvnw -B package -DskipTests first, or pass --app)" >&2
	exit 1
fi

name="binhost-agent-$version"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top="$stage/$name"
mkdir -p "$top/deploy" "$top/config"
cp -Rp "$app" "$top/quarkus-app"
for d in bin openrc systemd monitoring; do
	cp -Rp "$here/$d" "$top/deploy/$d"
done
cp -p "$here/install.sh" "$top/deploy/install.sh"
cp -p "$repo/config/binhost-agent.properties" "$top/config/"
cp -p "$repo/README.md" "$top/README.md"
chmod -R u+rwX,go+rX,go-w "$top"

mkdir -p "$out"
tarball="$out/$name.tar.gz"
(cd "$stage" && find "$name" -print | LC_ALL=C sort >"$stage/list" &&
	tar --no-recursion --owner=0 --group=0 --numeric-owner -T "$stage/list" -cf - | gzip -9n >"$tarball.new")
mv "$tarball.new" "$tarball"
echo "$tarball ($(wc -c <"$tarball") bytes, $(wc -l <"$stage/list") entries)"
