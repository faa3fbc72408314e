#!/bin/sh
# binhost-agent demo: builds the agent if needed and runs it against a built-in local master (an rsync daemon
# on 127.0.0.1:18730 serving an example master /etc/portage), with every slave path under target/demo.
# No root needed, except to install rsync when the machine lacks it.
set -eu
cd "$(dirname "$0")/../.."

if ! command -v rsync >/dev/null 2>&1; then
    echo "demo: rsync is missing; installing it (the local master and the config pull need it)" >&2
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq rsync >/dev/null
    elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        sudo apt-get update -qq && sudo apt-get install -y -qq rsync >/dev/null
    else
        echo "demo: install rsync first (Debian: apt-get install rsync; Gentoo: emerge net-misc/rsync)" >&2
        exit 1
    fi
fi
if ! command -v unzip >/dev/null 2>&1 && [ ! -d "${MAVEN_USER_HOME:-$HOME/.m2}/wrapper/dists" ]; then
    echo "demo: unzip is missing; the Maven wrapper needs it once to unpack Maven" >&2
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -qq unzip >/dev/null
    fi
fi

if [ ! -f target/quarkus-app/quarkus-run.jar ] || [ -n "$(find src pom.xml -newer target/quarkus-app/quarkus-run.jar -print -quit)" ]; then
    echo "demo: building the agent (first time: Maven downloads its dependencies, a few minutes)" >&2
    ./mvnw -B -q package -DskipTests
fi

echo "demo: health on http://127.0.0.1:9873/q/health  metrics on http://127.0.0.1:9873/q/metrics  (Ctrl-C stops)" >&2
# The CLI resolves the same profile, so these talk to this agent's socket under target/demo.
cli="java -Dquarkus.profile=demo -jar target/quarkus-app/quarkus-run.jar"
echo "demo: in another terminal here:  $cli status   |  $cli history  |  $cli trigger  |  $cli pull-config" >&2
exec java ${JAVA_OPTS:-} -Dquarkus.profile=demo -jar target/quarkus-app/quarkus-run.jar "$@"
