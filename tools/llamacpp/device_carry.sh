#!/bin/sh
# device_carry.sh -- one xz tarball with what a GPU machine needs for our side of the e07 llama.cpp peer
# (tools/llamacpp/gpu_peer.sh): build/bin/ql (gguf-random), build/bin/check_qwen3_serve (+ its
# build/lib/libql_cuda_engine.so), build/bin/check_gguf_random, all stripped, the non-system libraries they
# load, and the Qwen3 tokenizer. No llama.cpp file goes in here.
#   bin/ lib/   the programs (check_qwen3_serve finds the engine at bin/../lib)
#   libs/       run with LD_LIBRARY_PATH=<dir>/libs: cjson, cmark-gfm, utf8proc, lzma, gomp as ldd resolves them
#               here, and libopenblas.so.0 REDUCED to the functions the programs call: the same objects of this
#               machine's static OpenBLAS (Debian's libopenblas.a, the code of the shared one) linked into a
#               small shared library (-Wl,--gc-sections, a version script exporting only those symbols), so the
#               CPU reference of check_qwen3_serve computes with the same OpenBLAS code: ~1.4 MB compressed
#               instead of ~5 MB for libopenblas + libgfortran (the device call's tree is limited to 64 MiB)
#   tok/        tok.pack.json (tokenizer.json packed by tools/llamacpp/tokpack.py) and tokenizer_config.json
#   SHA256SUMS  of every file above, as shipped (the manifest's binary hashes)
# Usage: tools/llamacpp/device_carry.sh OUT.tar.xz [TOKENIZER_DIR (default ../shared/models/qwen3-tokenizer)]
set -eu
out=${1:?usage: device_carry.sh OUT.tar.xz [TOKENIZER_DIR]}
tok=${2:-../shared/models/qwen3-tokenizer}
for f in build/bin/ql build/bin/check_qwen3_serve build/bin/check_gguf_random build/lib/libql_cuda_engine.so \
         "$tok/tokenizer.json" "$tok/tokenizer_config.json"; do
    [ -f "$f" ] || { echo "device_carry.sh: $f: missing (make all build/bin/check_gguf_random first)" >&2; exit 1; }
done
ob_a=$(readlink -f /usr/lib/x86_64-linux-gnu/libopenblas.a 2>/dev/null || true)
[ -f "$ob_a" ] || { echo "device_carry.sh: no static libopenblas.a (Debian libopenblas-dev)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/lib" "$tmp/libs" "$tmp/tok"
for b in ql check_qwen3_serve check_gguf_random; do strip -o "$tmp/bin/$b" "build/bin/$b"; done
strip -o "$tmp/lib/libql_cuda_engine.so" build/lib/libql_cuda_engine.so
# The tokenizer packed (tools/llamacpp/tokpack.py: 0.6 MB compressed instead of 1.4); gpu_peer.sh unpacks it.
python3 tools/llamacpp/tokpack.py pack "$tok/tokenizer.json" "$tmp/tok/tok.pack.json"
cp "$tok/tokenizer_config.json" "$tmp/tok/"

# Non-system libraries: whatever ldd resolves outside libc / libm / libstdc++ / libgcc / CUDA.
bins="build/bin/ql build/bin/check_qwen3_serve build/bin/check_gguf_random build/lib/libql_cuda_engine.so"
ldd $bins 2>/dev/null | awk '/=> \// {print $1, $3}' | sort -u |
    grep -v -E '^(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt|ld-linux|libcublas|libcublasLt|libcudart)\.' |
    while read -r name path; do
        case $name in
        libopenblas.so.0|libgfortran.so.*|libquadmath.so.*) ;;   # OpenBLAS is reduced below; it needs neither
        *) cp -L "$path" "$tmp/libs/$name" && strip "$tmp/libs/$name" ;;
        esac
    done
# The OpenBLAS functions the programs import (defined by the system libopenblas.so.0).
nm -D --defined-only /usr/lib/x86_64-linux-gnu/libopenblas.so.0 | awk '{print $3}' | sed 's/@.*//' | sort -u > "$tmp/ob.all"
# shellcheck disable=SC2086
syms=$(nm -D --undefined-only $bins | awk '{print $2}' | sed 's/@.*//' | sort -u | comm -12 - "$tmp/ob.all")
[ -n "$syms" ] || { echo "device_carry.sh: no OpenBLAS symbol imported?" >&2; exit 1; }
{ printf '{ global: '; for s in $syms; do printf '%s; ' "$s"; done; printf 'local: *; };\n'; } > "$tmp/ob.map"
echo 'void ql_openblas_subset(void) {}' > "$tmp/ob.c"
und=""
for s in $syms; do und="$und -Wl,-u,$s"; done
# shellcheck disable=SC2086
gcc -shared -fPIC -o "$tmp/libs/libopenblas.so.0" -Wl,-soname,libopenblas.so.0 "$tmp/ob.c" \
    -Wl,--version-script="$tmp/ob.map" -Wl,--gc-sections $und "$ob_a" -lpthread -lm
strip "$tmp/libs/libopenblas.so.0"
rm -f "$tmp/ob.c" "$tmp/ob.map" "$tmp/ob.all"
(cd "$tmp" && find bin lib libs tok -type f | sort | xargs sha256sum > SHA256SUMS)
tar -C "$tmp" -cf - . | xz -9 -T2 > "$out"
cp tools/llamacpp/gpu_peer.sh tools/llamacpp/tokpack.py "$(dirname "$out")/"   # the device tree is /work/main's
echo "device_carry.sh: $out ($(wc -c < "$out") bytes): $(echo $syms | wc -w) OpenBLAS functions: $syms" >&2
