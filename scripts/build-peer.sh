#!/usr/bin/env bash
# Builds llama.cpp's own llama-server (and test-backend-ops) from the source node-llama-cpp ships,
# so that conform's tests always have a server conform did not write. One build serves cpu and
# vulkan: GGML_BACKEND_DL loads its CPU backend from the build and node-llama-cpp's prebuilt
# libggml-vulkan.so (same llama.cpp commit) through GGML_BACKEND_PATH, because Debian 12's Vulkan
# headers are too old to compile this commit's Vulkan backend.
# The build is cached outside the repo, keyed by the bundle's commit; a second call is instant.
# Prints the cache folder on its last line. With --print it only prints it, and fails when the
# build is missing, so tests can find the peer without ever starting a build themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

bundle="node_modules/node-llama-cpp/llama/gitRelease.bundle"
if [ ! -f "$bundle" ]; then
  echo "build-peer: $bundle not found; run npm ci first" >&2
  exit 2
fi
for tool in git cmake g++ make; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-peer: '$tool' is needed (apt-get install cmake g++ make git)" >&2; exit 2; }
done

commit=$(git bundle list-heads "$bundle" | awk '$2 == "HEAD" { print $1 }')
cache_root="${CONFORM_PEER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conform/llama-server}"
dest="$cache_root/$commit"
# A cached build counts only if it starts: the binaries find their libraries through $ORIGIN.
usable() { [ -x "$1/bin/llama-server" ] && "$1/bin/llama-server" --version >/dev/null 2>&1; }
if usable "$dest"; then
  echo "$dest"
  exit 0
fi
if [ "${1:-}" = "--print" ]; then
  echo "build-peer: llama-server for llama.cpp $commit is not built in $cache_root; run: npm run peer:build" >&2
  exit 1
fi
echo "build-peer: building llama.cpp's llama-server $commit from node-llama-cpp's bundled source, once (about 10 min on 2 cores); cached in $dest" >&2

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
if usable "$dest"; then echo "$dest"; exit 0; fi

work="$cache_root/.build-$commit"
rm -rf "$work"
git clone --quiet "$bundle" "$work/src" 2>/dev/null
git -C "$work/src" -c advice.detachedHead=false checkout --quiet "$commit"
started=$(date +%s)
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON \
  -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DBUILD_SHARED_LIBS=ON \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
  >"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log" >&2; exit 1; }
jobs=${CONFORM_PEER_JOBS:-$(nproc)}
cmake --build "$work/build" --target llama-server test-backend-ops -j"$jobs" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; exit 1; }

mkdir -p "$work/out/bin"
cp -a "$work/build/bin/." "$work/out/bin/"
# Shared libraries may land beside the binaries or under their own folders, depending on the commit.
find "$work/build" -name '*.so*' -not -path "$work/out/*" -exec cp -a {} "$work/out/bin/" \;
printf '{ "commit": "%s", "buildSeconds": %s }\n' "$commit" "$(( $(date +%s) - started ))" >"$work/out/build.json"
rm -rf "$dest"
mv "$work/out" "$dest"
rm -rf "$work"
echo "$dest"
