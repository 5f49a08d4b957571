#!/usr/bin/env bash
# check-report.sh -- opens rendered report pages in headless Chromium and checks, from the live DOM, that
# each page is Chinese where it should be (<html lang="zh-CN"> and CJK text present) and that every <img>
# loaded (the page's own script sets data-img-state="ok" on <html> once all images have a naturalWidth > 0).
# A negative control runs first: a copy of a page with one of its figures deleted must FAIL the same check,
# so the check cannot pass vacuously.
# Usage: tools/check-report.sh PAGE.html...   (e.g. build/report/zh/index.html build/report/zh/01-formats.html)
# Exit: 0 all good, 1 a check failed, 2 usage, 77 Chromium or the CJK font is missing (skipped).
set -u
export LC_ALL=C.UTF-8

if [ $# -eq 0 ]; then
    echo "usage: tools/check-report.sh PAGE.html..." >&2
    exit 2
fi
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium not installed" >&2
    exit 77
fi
# Without a CJK font the DOM still holds Chinese text but a reader sees boxes: check the font too.
if ! fc-list ':lang=zh' family | grep -q 'Noto Sans CJK'; then
    echo "SKIP: no Noto Sans CJK font (install fonts-noto-cjk)" >&2
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-report.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# dump_dom FILE OUT: the DOM after load (virtual time lets the load event and the page script run).
dump_dom() {
    local abs
    abs=$(realpath "$1")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$WORK/profile.XXXXXX")" --virtual-time-budget=5000 \
        --dump-dom "file://$abs" >"$2" 2>"$WORK/chromium.log"
}

# attr NAME FILE: the value of attribute NAME on the <html> element of a dumped DOM.
attr() {
    grep -o "<html[^>]*>" "$2" | head -1 | grep -o "$1=\"[^\"]*\"" | head -1 | sed 's/.*="\(.*\)"/\1/'
}

# check_page FILE: prints one line per finding; returns 0 if the page passes.
check_page() {
    local page=$1 dom="$WORK/dom.html" bad=0
    if [ ! -f "$page" ]; then
        echo "FAILED $page: no such file"
        return 1
    fi
    if ! dump_dom "$page" "$dom" || [ ! -s "$dom" ]; then
        echo "FAILED $page: chromium produced no DOM (see its log below)"
        tail -5 "$WORK/chromium.log"
        return 1
    fi
    local lang state total loaded n_cjk n_img
    lang=$(attr lang "$dom")
    state=$(attr data-img-state "$dom")
    total=$(attr data-img-total "$dom")
    loaded=$(attr data-img-loaded "$dom")
    # Text content only (tags dropped), then CJK Unified Ideographs.
    n_cjk=$(sed 's/<[^>]*>//g' "$dom" | grep -oP '[\x{4e00}-\x{9fff}]' | wc -l)
    n_img=$(grep -o '<img[ >]' "$page" | wc -l)
    case "$page" in
    */zh/*)
        [ "$lang" = "zh-CN" ] || { echo "FAILED $page: <html lang=\"$lang\">, expected zh-CN"; bad=1; }
        # 20 ideographs: more than the navigation's few, so the body itself must be Chinese.
        [ "$n_cjk" -ge 20 ] || { echo "FAILED $page: only $n_cjk Chinese characters in the rendered text"; bad=1; }
        ;;
    esac
    if [ "$state" != "ok" ]; then
        echo "FAILED $page: images not all loaded (data-img-state='$state', loaded $loaded of $total)"
        bad=1
    elif [ "$total" != "$n_img" ]; then
        echo "FAILED $page: the page has $n_img <img> but the browser saw $total"
        bad=1
    fi
    [ $bad -eq 0 ] && echo "ok $page (lang=$lang, $n_cjk CJK characters, $loaded/$total images loaded)"
    return $bad
}

# Negative control: the first page with figures, copied with its folder, minus one figure.
status=0
for page in "$@"; do
    [ -f "$page" ] || continue
    fig=$(grep -o '<img src="[^"]*"' "$page" | head -1 | sed 's/<img src="\(.*\)"/\1/')
    [ -n "$fig" ] || continue
    mkdir -p "$WORK/control"
    cp -r "$(dirname "$page")/." "$WORK/control/"
    rm -f "$WORK/control/$fig"
    if check_page "$WORK/control/$(basename "$page")" >"$WORK/control.out"; then
        echo "FAILED negative control: $(basename "$page") without $fig still passed the check"
        status=1
    else
        echo "ok negative control: $(basename "$page") without $fig fails the check:"
        sed -n 's/^FAILED /  /p' "$WORK/control.out"
    fi
    break
done

for page in "$@"; do
    check_page "$page" || status=1
done
exit $status
