#!/usr/bin/env bash
# Redraws each lesson's committed chart, results/lessons/<lesson>.svg, from the lesson's
# `# Chart:` header line:
#
#   # Chart: run => origin_rps.svg
#   # Chart: sweep --grid layers.redis.ttl_s=1,10,60 => sweep_hit_ratio.svg
#
# runs `tiersim <run|sweep> scenarios/lessons/<lesson>.toml <args> --plot` into a
# temporary folder and keeps the named chart. Usage, from the repository's root:
#
#   results/lessons/regenerate.sh            # every lesson
#   results/lessons/regenerate.sh 07 09      # lessons whose file names start so
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${TIERSIM:-target/release/tiersim}
[ -x "$bin" ] || cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for toml in scenarios/lessons/*.toml; do
    stem=$(basename "$toml" .toml)
    if [ $# -gt 0 ]; then
        keep=0
        for p in "$@"; do [[ $stem == "$p"* ]] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    line=$(grep -m1 '^# Chart: ' "$toml" || true)
    if [ -z "$line" ]; then
        echo "$toml: no '# Chart:' line" >&2
        exit 2
    fi
    spec=${line#'# Chart: '}
    command=${spec%% => *}
    chart=${spec##* => }
    read -r -a words <<<"$command"
    out="$tmp/$stem"
    "$bin" "${words[0]}" "$toml" "${words[@]:1}" --out "$out" --quiet --plot >/dev/null
    cp "$out/$chart" "results/lessons/$stem.svg"
    echo "results/lessons/$stem.svg  <=  tiersim $command"
done
