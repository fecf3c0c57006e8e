#!/usr/bin/env bash
# Build the crossform JVM scorer with javac and jar against Debian's jars in /usr/share/java:
# nothing is downloaded. Output: jvm/build/crossform-jvm.jar (git-ignored).
#   jvm/build.sh          compile and package
#   jvm/build.sh test     also compile and run the JUnit 5 tests (Debian's junit5)
#   jvm/build.sh classpath   print the runtime classpath (the jar and its dependencies)
#   jvm/build.sh spark SPARK_JARS_DIR   also build jvm/build/crossform-spark.jar (jvm/spark/: the
#                         Spark transformation of crossform.spark's jvm runtime) against the Spark
#                         jars in SPARK_JARS_DIR (pyspark's jars/ folder); the core jar is built first
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/build"
share=/usr/share/java
deps=("$share/jackson-databind.jar" "$share/jackson-core.jar" "$share/jackson-annotations.jar" "$share/protobuf.jar")
test_deps=("$share/junit-platform-console-standalone.jar")
join() { local IFS=:; echo "$*"; }

if [ "${1:-}" = classpath ]; then
  join "$build/crossform-jvm.jar" "${deps[@]}"
  exit 0
fi
for jar in "${deps[@]}"; do
  [ -f "$jar" ] || { echo "jvm/build.sh: $jar is missing; install libjackson2-databind-java and libprotobuf-java (./dev jvm does)" >&2; exit 1; }
done
rm -rf "$build/classes" "$build/test-classes"
mkdir -p "$build/classes"
find "$here/src/main/java" "$here/src/generated/java" -name '*.java' > "$build/sources.txt"
javac --release 17 -encoding UTF-8 -nowarn -d "$build/classes" -cp "$(join "${deps[@]}")" @"$build/sources.txt"
# a new file renamed into place: a JVM already running from the old jar keeps reading its own inode
jar --create --file "$build/crossform-jvm.jar.tmp" -C "$build/classes" .
mv -f "$build/crossform-jvm.jar.tmp" "$build/crossform-jvm.jar"
echo "jvm/build.sh: built $build/crossform-jvm.jar" >&2

if [ "${1:-}" = spark ]; then
  spark_jars=${2:?jvm/build.sh spark: name the folder of Spark's jars (pyspark's jars/)}
  [ -f "$(ls "$spark_jars"/spark-sql_*.jar 2>/dev/null | head -n 1)" ] || { echo "jvm/build.sh: no spark-sql jar in $spark_jars" >&2; exit 1; }
  rm -rf "$build/spark-classes"
  mkdir -p "$build/spark-classes"
  find "$here/spark/src/main/java" -name '*.java' > "$build/spark-sources.txt"
  javac --release 17 -encoding UTF-8 -nowarn -d "$build/spark-classes" -cp "$build/crossform-jvm.jar:$spark_jars/*" @"$build/spark-sources.txt"
  jar --create --file "$build/crossform-spark.jar.tmp" -C "$build/spark-classes" .
  mv -f "$build/crossform-spark.jar.tmp" "$build/crossform-spark.jar"
  echo "jvm/build.sh: built $build/crossform-spark.jar" >&2
fi

if [ "${1:-}" = test ]; then
  [ -f "${test_deps[0]}" ] || { echo "jvm/build.sh: ${test_deps[0]} is missing; install junit5" >&2; exit 1; }
  mkdir -p "$build/test-classes"
  find "$here/src/test/java" -name '*.java' > "$build/test-sources.txt"
  cp="$(join "$build/crossform-jvm.jar" "${deps[@]}" "${test_deps[@]}")"
  javac --release 17 -encoding UTF-8 -d "$build/test-classes" -cp "$cp" @"$build/test-sources.txt"
  exec java -Dcrossform.repo="$(cd "$here/.." && pwd)" -jar "${test_deps[0]}" --disable-banner --fail-if-no-tests \
    --class-path "$build/test-classes:$cp" --scan-class-path "$build/test-classes"
fi
