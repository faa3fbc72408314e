#!/bin/sh
# Times EmergePlan.parse on a synthetic 5,000-package plan built from a real fixture; prints the median.
# Usage: bench/plan-parse.sh [packages] [rounds]   (from anywhere; compiles the test classes first)
# The parser and the bench use only the JDK, so the compiled classes are the whole classpath.
set -e
cd "$(dirname "$0")/.."
./mvnw -B -q test-compile
exec java -cp target/test-classes:target/classes dev.binhost.agent.emerge.PlanParseBench "${1:-5000}" "${2:-30}"
