#!/bin/sh
# A SHERPA trial script for Population Based Training, in POSIX shell: the
# idea of trial.py with a model small enough for awk. The model is one
# number, x, that each epoch moves a fraction lr of the way toward TARGET;
# the objective is -|TARGET - x| (higher is better, 0 at best).
#
#   sherpa run study.yaml --command 'sh trial.sh' --output-dir output_quickstart_sh
#
# It talks to the runner with the `sherpa trial` commands, so `sherpa` must
# be on PATH. Generation 1 starts from x = 0; later generations load x and
# the epoch count from the checkpoint of the trial named by load_from, and
# go on with their own (perturbed) lr. The checkpoint has the "key value..."
# lines trial.py and trial.cc write.
set -eu

EPOCHS=3  # per generation
TARGET=1

if ! command -v sherpa >/dev/null 2>&1; then
  echo "trial.sh: the sherpa command is not on PATH; add its folder" \
       "(e.g. build/release/src/cli) to PATH before sherpa run" >&2
  exit 2
fi

trial=$SHERPA_TRIAL_ID
lr=$(sherpa trial get -p lr)
load_from=$(sherpa trial get -p load_from)
save_to=$(sherpa trial get -p save_to)

# Prints the value of KEY in checkpoint FILE.
field() {
  awk -v key="$1" '$1 == key { sub(/^[^ ]+ /, ""); print; exit }' "$2"
}

if [ -z "$load_from" ]; then
  x=0
  iteration=0
  echo "trial $trial: new model, lr=$lr"
else
  parent=$(sherpa trial checkpoint "$load_from")
  x=$(field weights "$parent")
  iteration=$(field iteration "$parent")
  echo "trial $trial: continues trial $(field trial "$parent") at epoch $iteration" \
       "(lr $(field lr "$parent") -> $lr)"
fi
loaded_x=$x
loaded_iteration=$iteration

epoch=0
while [ "$epoch" -lt "$EPOCHS" ]; do
  epoch=$((epoch + 1))
  iteration=$((iteration + 1))
  x=$(awk -v x="$x" -v lr="$lr" -v t="$TARGET" 'BEGIN { printf "%.12g", x + lr * (t - x) }')
  objective=$(awk -v x="$x" -v t="$TARGET" 'BEGIN { d = t - x; printf "%.12g", d < 0 ? d : -d }')
  echo "epoch $iteration: x $x objective $objective"
  answer=$(sherpa trial report --iteration "$iteration" --objective "$objective")
  if [ "$answer" = stop ]; then  # the study wants this trial to end
    break
  fi
done

# Written aside and renamed: a trial killed while saving never leaves a
# half-written checkpoint for the next generation to load.
checkpoint=$(sherpa trial checkpoint "$save_to")
{
  echo "# sherpa quickstart checkpoint"
  echo "trial $trial"
  echo "iteration $iteration"
  echo "lr $lr"
  echo "weights $x"
  if [ -n "$load_from" ]; then
    echo "loaded_from $load_from"
    echo "loaded_iteration $loaded_iteration"
    echo "loaded_weights $loaded_x"
  fi
} > "$checkpoint.tmp"
mv "$checkpoint.tmp" "$checkpoint"
