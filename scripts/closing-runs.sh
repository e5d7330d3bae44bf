#!/usr/bin/env bash
# The measurements behind the issue closing notes (issues 3 and 5), on this machine, with USE-lite
# and the GLUE files in ../shared/data. Outputs go to runs/ (git-ignored); the report plot is
# copied to docs/. Rough duration on 2 cores: 1.5-2 hours. Usage: bash scripts/closing-runs.sh [step...]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=runs/closing
mkdir -p "$OUT"
A="node bin/autopeft.mjs"
DB="$OUT/studies.sqlite"
steps=${*:-"sst2 rte mrpc methods search retrain baselines report"}

for step in $steps; do
  case $step in
  sst2) # SST-2 >= 80% within 10 minutes of training
    $A train --task sst2 --data $DATA --peft '{"sa":64}' --epochs 1 --train-limit 20000 --max-length 64 --lr 1e-3 --json --quiet --out $OUT/sst2-sa64 | tee $OUT/sst2.txt ;;
  rte)
    $A train --task rte --data $DATA --peft '{"sa":64}' --epochs 5 --max-length 128 --lr 1e-3 --json --quiet | tee $OUT/rte.txt ;;
  mrpc)
    $A train --task mrpc --data $DATA --peft '{"sa":64}' --epochs 5 --max-length 128 --lr 1e-3 --json --quiet | tee $OUT/mrpc.txt ;;
  methods) # SA vs PA vs PT vs LoRA at similar parameter % (~0.5-0.6% of USE-lite), same budget
    for p in '{"sa":16}' '{"pa":16}' '{"pt":16}' '{"lora":8}'; do
      $A train --task sst2 --data $DATA --peft "$p" --epochs 1 --train-limit 8000 --max-length 64 --lr 1e-3 --json --quiet | tail -1
    done | tee $OUT/methods.jsonl ;;
  search) # 40-trial BO vs 40-trial random, same low fidelity
    for s in bo random; do
      $A search --task sst2 --data $DATA --sampler $s --trials 40 --n-init 10 --batch 4 --epochs 1 --train-limit 1000 --max-length 64 \
        --storage $DB --study sst2-$s --workers 2 --quiet 2>&1 | tail -3
    done | tee $OUT/search.txt ;;
  retrain) # the BO front at higher fidelity, 5 seeds, official dev set
    $A retrain --study sst2-bo --storage $DB --seeds 5 --epochs 2 --train-limit 4000 --max-length 64 --workers 2 --json --quiet | tee $OUT/retrain.txt ;;
  baselines)
    $A baselines --study sst2-bo --storage $DB --seeds 1 --epochs 2 --train-limit 4000 --max-length 64 --workers 2 --json --quiet | tee $OUT/baselines.txt ;;
  report)
    # Both fronts on one reference point: the BO study's inferred one.
    $A report --study sst2-bo --storage $DB --out $OUT/report-bo --json | tee $OUT/report-bo.txt
    REF=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").pop()); console.log(j.refPoint.join(","))' $OUT/report-bo.txt)
    $A report --study sst2-random --storage $DB --out $OUT/report-random --ref "$REF" --json | tee $OUT/report-random.txt
    mkdir -p docs/results && cp $OUT/report-bo/scatter.svg docs/results/sst2-bo-scatter.svg && cp $OUT/report-bo/hypervolume.svg docs/results/sst2-bo-hypervolume.svg
    [ -f $OUT/report-bo/retrain.svg ] && cp $OUT/report-bo/retrain.svg docs/results/sst2-bo-retrain.svg || true ;;
  *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
