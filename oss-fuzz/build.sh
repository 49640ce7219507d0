#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for wsspec's cargo-fuzz targets.
#
# Conventional layout: the builder image has the sources at $SRC/wsspec (override
# with WSSPEC_SRC), a nightly cargo with cargo-fuzz, and the sanitizer flags in the
# environment; every fuzz target binary goes to $OUT, with its committed seeds as
# <target>_seed_corpus.zip and its libFuzzer options (fuzz/options/<target>.options)
# next to it.
#
# Local check (nightly toolchain, temporary directories):
#   SRC=$(mktemp -d) OUT=$(mktemp -d) WORK=$(mktemp -d) WSSPEC_SRC=$PWD \
#     RUSTUP_TOOLCHAIN=nightly bash oss-fuzz/build.sh

src="${WSSPEC_SRC:-$SRC/wsspec}"
cd "$src"

# Build into $WORK so a rebuild reuses it and the source tree stays clean.
export CARGO_TARGET_DIR="${WORK:-$src/fuzz/target}/wsspec-fuzz-target"
cargo fuzz build -O --target-dir "$CARGO_TARGET_DIR"

triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$CARGO_TARGET_DIR/$triple/release"
count=0
for f in fuzz/fuzz_targets/*.rs; do
    name="$(basename "$f" .rs)"
    cp "$bin_dir/$name" "$OUT/"
    if [ -d "fuzz/corpus/$name" ]; then
        rm -f "$OUT/${name}_seed_corpus.zip"
        (cd "fuzz/corpus/$name" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
    fi
    if [ -f "fuzz/options/$name.options" ]; then
        cp "fuzz/options/$name.options" "$OUT/"
    fi
    count=$((count + 1))
done
echo "wsspec: $count fuzz targets in $OUT"
