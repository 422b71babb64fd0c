#!/usr/bin/env bash
# Installs, starts, stops and checks a single-node Slurm cluster (munge,
# slurmctld, slurmd) and a single-node Son of Grid Engine cell (sge_qmaster,
# sge_execd) on this machine, for the cluster integration tests
# (src/scheduler/cluster_test.cc) and for trying studies on a real scheduler.
#
#   tools/clusters.sh start  [slurm|sge|all]   # install if needed, start, smoke-test
#   tools/clusters.sh stop   [slurm|sge|all]   # stop the daemons this script starts
#   tools/clusters.sh status [slurm|sge|all]   # exit 0 only if all asked for are up
#
# Written for Debian 12 without systemd (containers, CI), as root; safe to
# run again while the clusters are up. Every step and workaround comes from
# shared/reference/local-schedulers.md:
#   * Slurm: batch_sched_delay=0 (else ~3 s extra per job), MinJobAge=3600
#     so `squeue -t all` keeps finished jobs, jobcomp/filetxt so `sacct -c`
#     works without a database, slurmd -N localhost so the node name does not
#     depend on the hostname.
#   * Grid Engine: host_aliases "localhost <hostname>" (the hostname resolves
#     to 127.0.0.1, which qmaster names "localhost", and it refuses clients
#     whose names differ), min_uid 0 (root's jobs), a 1 s schedule interval
#     and accounting flush (defaults: 15 s), no load thresholds.
# It never purges or autoremoves packages (purging shared libraries on this
# kind of machine removed unrelated packages once), and stops daemons only
# through their PID files after checking /proc/PID/comm.
#
# Environment:
#   SLURM_CPUS  CPUs the Slurm node offers (default 8: trivial test jobs
#               oversubscribe the cores on purpose, so concurrency tests can
#               run up to 8 trials at once on a 2-core machine)
#   SGE_SLOTS   slots of the Grid Engine queue all.q (default 8, same reason)
set -euo pipefail

ACTION="${1:-}"
WHICH="${2:-all}"
SLURM_CPUS="${SLURM_CPUS:-8}"
SGE_SLOTS="${SGE_SLOTS:-8}"

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=900 -q)

SLURM_PACKAGES=(munge slurmctld slurmd slurm-client)
SGE_PACKAGES=(gridengine-master gridengine-exec gridengine-client)

export SGE_ROOT=/var/lib/gridengine
export SGE_CELL=default
SGE_COMMON="$SGE_ROOT/$SGE_CELL/common"
SGE_SPOOL=/var/spool/gridengine
QMASTER_PID="$SGE_SPOOL/qmaster/qmaster.pid"
EXECD_PID="$SGE_SPOOL/execd/localhost/execd.pid"
MUNGE_PID=/run/munge/munged.pid
SLURMCTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid

log() { echo "clusters: $*"; }
die() {
  echo "clusters: error: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 {start|stop|status} [slurm|sge|all]" >&2
  exit 2
}

# --- process helpers -----------------------------------------------------------

# True if the PID in file $1 is alive and its command name is $2: a stale PID
# file must not make us believe (or kill) an unrelated process.
running() {
  local file="$1" comm="$2" pid
  [ -r "$file" ] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$comm" ] || return 1
  # A daemon killed while nobody reaps it (its parent gone to a subreaper
  # that does not wait) stays a zombie under its old name: not running.
  case "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" in
    Z | X | "") return 1 ;;
  esac
}

stop_daemon() {
  local file="$1" comm="$2" pid
  if ! running "$file" "$comm"; then
    log "$comm is not running"
    return 0
  fi
  pid="$(tr -dc '0-9' <"$file")"
  log "stopping $comm (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    running "$file" "$comm" || return 0
    sleep 0.2
  done
  log "$comm (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# Runs "$@", showing its output only if it fails (qconf reports every
# change it makes on stderr).
quiet() {
  local out
  out="$("$@" 2>&1)" || {
    echo "$out" >&2
    return 1
  }
}

# Runs "$@" until it succeeds, at most $1 seconds.
wait_for() {
  local seconds="$1"
  shift
  for _ in $(seq 1 $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

# --- installation ----------------------------------------------------------------

apt_install() {
  if dpkg -s "$@" >/dev/null 2>&1; then return 0; fi
  [ "$(id -u)" -eq 0 ] || die "installing $* needs root"
  # Package scripts must not start the daemons: without systemd they would
  # come up with the wrong names and no configuration. Debian images ship a
  # policy-rc.d that forbids it; add one for the install if this one has none.
  local added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  log "installing $*"
  # Stale lists make install fail with 404s on a machine that sat unused.
  "${APT[@]}" update >/dev/null || log "apt-get update failed; trying the install anyway"
  local rc=0
  "${APT[@]}" install -y --no-install-recommends "$@" >/dev/null || rc=$?
  if [ "$added_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$rc" -eq 0 ] || die "apt-get install $* failed (exit $rc)"
}

# --- Slurm ---------------------------------------------------------------------

slurm_conf() {
  cat <<EOF
# Written by sherpa-cpp tools/clusters.sh: a single-node test cluster.
ClusterName=localtest
SlurmctldHost=localhost
AuthType=auth/munge
CredType=cred/munge
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=$SLURMCTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
MinJobAge=3600
KillWait=5
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$SLURM_CPUS State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

slurm_node_usable() {
  local state
  state="$(sinfo -h -n localhost -o %T 2>/dev/null | head -1)"
  case "$state" in
    idle* | mixed* | allocated* | completing*) return 0 ;;
    *) return 1 ;;
  esac
}

slurm_start() {
  apt_install "${SLURM_PACKAGES[@]}"
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating the munge key"
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0600 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge # /run is a tmpfs: gone after a reboot
  if ! running "$MUNGE_PID" munged; then
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged
  fi
  wait_for 10 sh -c 'munge -n | unmunge' || die "munge does not work (munge -n | unmunge)"

  install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
  local conf=/etc/slurm/slurm.conf
  if [ ! -f "$conf" ] || ! cmp -s <(slurm_conf) "$conf"; then
    log "writing $conf (CPUs=$SLURM_CPUS)"
    mkdir -p /etc/slurm
    slurm_conf >"$conf"
    # The daemons read the file at start; restart them to apply it.
    stop_daemon "$SLURMD_PID" slurmd
    stop_daemon "$SLURMCTLD_PID" slurmctld
  fi
  if ! running "$SLURMCTLD_PID" slurmctld; then
    log "starting slurmctld"
    # -i: ignore unreadable state files (the first start has none).
    /usr/sbin/slurmctld -i
  fi
  if ! running "$SLURMD_PID" slurmd; then
    log "starting slurmd"
    /usr/sbin/slurmd -N localhost
  fi
  wait_for 30 scontrol ping || die "slurmctld does not answer (see /var/log/slurm/slurmctld.log)"
  if ! wait_for 20 slurm_node_usable; then
    # A node left down or drained by an earlier run (e.g. slurmd killed).
    scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
    wait_for 20 slurm_node_usable ||
      die "node localhost is $(sinfo -h -n localhost -o %T) (see /var/log/slurm/slurmd.log)"
  fi

  # Smoke test; it also absorbs the ~3 s delay of the first job after a
  # slurmctld start, which would otherwise land on a test.
  local id state=""
  id="$(sbatch --parsable --job-name=sherpa_smoke --output=/dev/null --wrap true)" ||
    die "sbatch of the smoke job failed"
  for _ in $(seq 1 150); do
    state="$(squeue -h -t all -j "$id" -o %T 2>/dev/null || true)"
    [ "$state" = COMPLETED ] && break
    sleep 0.2
  done
  [ "$state" = COMPLETED ] || die "smoke job $id is '$state' after 30 s"
  log "slurm is up: node localhost with $SLURM_CPUS CPUs, smoke job $id COMPLETED"
}

slurm_stop() {
  stop_daemon "$SLURMD_PID" slurmd
  stop_daemon "$SLURMCTLD_PID" slurmctld
  stop_daemon "$MUNGE_PID" munged
}

slurm_status() {
  local ok=0
  for d in "$MUNGE_PID munged" "$SLURMCTLD_PID slurmctld" "$SLURMD_PID slurmd"; do
    # shellcheck disable=SC2086
    set -- $d
    if running "$1" "$2"; then log "$2 running (pid $(tr -dc '0-9' <"$1"))"; else
      log "$2 NOT running"
      ok=1
    fi
  done
  if [ "$ok" = 0 ]; then
    scontrol ping 2>&1 | sed 's/^/clusters:   /' || ok=1
    sinfo 2>&1 | sed 's/^/clusters:   /' || ok=1
  fi
  return "$ok"
}

# --- Grid Engine ---------------------------------------------------------------

sge_queue_conf() {
  cat <<EOF
qname                 all.q
hostlist              localhost
seq_no                0
load_thresholds       NONE
suspend_thresholds    NONE
nsuspend              1
suspend_interval      00:05:00
priority              0
min_cpu_interval      00:05:00
processors            UNDEFINED
qtype                 BATCH INTERACTIVE
ckpt_list             NONE
pe_list               NONE
rerun                 FALSE
slots                 $SGE_SLOTS
tmpdir                /tmp
shell                 /bin/sh
prolog                NONE
epilog                NONE
shell_start_mode      posix_compliant
starter_method        NONE
suspend_method        NONE
resume_method         NONE
terminate_method      NONE
notify                00:00:60
owner_list            NONE
user_lists            NONE
xuser_lists           NONE
subordinate_list      NONE
complex_values        NONE
projects              NONE
xprojects             NONE
calendar              NONE
initial_state         default
s_rt                  INFINITY
h_rt                  INFINITY
s_cpu                 INFINITY
h_cpu                 INFINITY
s_fsize               INFINITY
h_fsize               INFINITY
s_data                INFINITY
h_data                INFINITY
s_stack               INFINITY
h_stack               INFINITY
s_core                INFINITY
h_core                INFINITY
s_rss                 INFINITY
h_rss                 INFINITY
s_vmem                INFINITY
h_vmem                INFINITY
EOF
}

sge_exechost_conf() {
  cat <<EOF
hostname              localhost
load_scaling          NONE
complex_values        NONE
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
EOF
}

# The queue instance is usable when qstat -f shows no state flags for it
# ("au": alarm/unknown, i.e. execd not registered yet; "d": disabled; "E").
sge_queue_usable() {
  local line
  line="$(qstat -f -q all.q 2>/dev/null | grep '^all.q@localhost')" || return 1
  [ "$(echo "$line" | awk '{print NF}')" -eq 5 ]
}

sge_start() {
  if ! dpkg -s "${SGE_PACKAGES[@]}" >/dev/null 2>&1; then
    # Answer the packages' questions: configure a cell "default" whose
    # master is "localhost" (postinst then runs init_cluster).
    debconf-set-selections <<EOF
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string default
gridengine-common shared/gridenginemaster string localhost
EOF
    apt_install "${SGE_PACKAGES[@]}"
  fi
  if [ ! -e "$SGE_SPOOL/spooldb/sge" ]; then
    log "initialising the cell"
    install -d -o sgeadmin -g sgeadmin "$SGE_SPOOL/spooldb" "$SGE_SPOOL/qmaster" "$SGE_COMMON"
    runuser -u sgeadmin -- /usr/share/gridengine/scripts/init_cluster \
      "$SGE_ROOT" "$SGE_CELL" "$SGE_SPOOL/spooldb" sgeadmin >/dev/null
  fi
  # Written before qmaster starts: it reads them at start.
  local host aliases
  host="$(hostname)"
  aliases="localhost"
  for name in "$host" "$(hostname -s 2>/dev/null || true)"; do
    case " $aliases " in *" $name "*) ;; *) [ -n "$name" ] && aliases="$aliases $name" ;; esac
  done
  if [ "$(cat "$SGE_COMMON/host_aliases" 2>/dev/null)" != "$aliases" ] ||
    [ "$(cat "$SGE_COMMON/act_qmaster" 2>/dev/null)" != localhost ]; then
    echo "$aliases" >"$SGE_COMMON/host_aliases"
    echo localhost >"$SGE_COMMON/act_qmaster"
    chown sgeadmin:sgeadmin "$SGE_COMMON/host_aliases" "$SGE_COMMON/act_qmaster"
    stop_daemon "$EXECD_PID" sge_execd
    stop_daemon "$QMASTER_PID" sge_qmaster
  fi
  if ! running "$QMASTER_PID" sge_qmaster; then
    log "starting sge_qmaster"
    /usr/sbin/sge_qmaster
  fi
  wait_for 30 qconf -sh ||
    die "sge_qmaster does not answer (see $SGE_SPOOL/qmaster/messages)"

  local tmp
  tmp="$(mktemp -d)"
  # qconf reads the object's name from the file name for -Mconf.
  qconf -sconf global | sed -e 's/^min_uid .*/min_uid                      0/' \
    -e 's/^min_gid .*/min_gid                      0/' \
    -e 's/^load_report_time .*/load_report_time             00:00:05/' \
    -e 's/flush_time=[0-9:]*/flush_time=00:00:01/' \
    -e 's#^mailer .*#mailer                       /bin/true#' >"$tmp/global"
  if ! cmp -s <(qconf -sconf global) "$tmp/global"; then
    quiet qconf -Mconf "$tmp/global"
  fi
  qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval                 0:0:1/' \
    -e 's/^flush_submit_sec .*/flush_submit_sec                  1/' \
    -e 's/^flush_finish_sec .*/flush_finish_sec                  1/' \
    -e 's/^job_load_adjustments .*/job_load_adjustments              NONE/' \
    -e 's/^load_adjustment_decay_time .*/load_adjustment_decay_time        0:0:0/' \
    >"$tmp/sched"
  if ! cmp -s <(qconf -ssconf) "$tmp/sched"; then
    quiet qconf -Msconf "$tmp/sched"
  fi
  qconf -ss 2>/dev/null | grep -qx localhost || quiet qconf -as localhost
  if ! qconf -se localhost >/dev/null 2>&1; then
    sge_exechost_conf >"$tmp/localhost"
    quiet qconf -Ae "$tmp/localhost"
  fi
  sge_queue_conf >"$tmp/all.q"
  if qconf -sq all.q >/dev/null 2>&1; then
    if [ "$(qconf -sq all.q | awk '$1=="slots"{print $2}')" != "$SGE_SLOTS" ] ||
      [ "$(qconf -sq all.q | awk '$1=="hostlist"{print $2}')" != localhost ]; then
      quiet qconf -Mq "$tmp/all.q"
    fi
  else
    quiet qconf -Aq "$tmp/all.q"
  fi
  rm -rf "$tmp"

  if ! running "$EXECD_PID" sge_execd; then
    log "starting sge_execd"
    /usr/sbin/sge_execd
  fi
  wait_for 60 sge_queue_usable ||
    die "queue all.q@localhost is not usable: $(qstat -f -q all.q 2>&1 | tail -1)"

  # Smoke test; on a freshly initialised cell the first scheduling run comes
  # ~15 s after qmaster start, which would otherwise land on a test.
  local id
  id="$(cd /tmp && qsub -terse -b y -N sherpa_smoke -o /dev/null -j y true)" ||
    die "qsub of the smoke job failed"
  wait_for 60 qacct -j "$id" || die "smoke job $id did not finish within 60 s"
  log "grid engine is up: queue all.q@localhost with $SGE_SLOTS slots, smoke job $id done"
}

sge_stop() {
  stop_daemon "$EXECD_PID" sge_execd
  stop_daemon "$QMASTER_PID" sge_qmaster
}

sge_status() {
  local ok=0
  for d in "$QMASTER_PID sge_qmaster" "$EXECD_PID sge_execd"; do
    # shellcheck disable=SC2086
    set -- $d
    if running "$1" "$2"; then log "$2 running (pid $(tr -dc '0-9' <"$1"))"; else
      log "$2 NOT running"
      ok=1
    fi
  done
  if [ "$ok" = 0 ]; then
    qstat -f 2>&1 | sed 's/^/clusters:   /' || ok=1
    sge_queue_usable || ok=1
  fi
  return "$ok"
}

# --- main ------------------------------------------------------------------------

case "$WHICH" in slurm | sge | all) ;; *) usage ;; esac
do_slurm() { [ "$WHICH" = slurm ] || [ "$WHICH" = all ]; }
do_sge() { [ "$WHICH" = sge ] || [ "$WHICH" = all ]; }

case "$ACTION" in
  start)
    [ "$(id -u)" -eq 0 ] || die "start needs root (it installs packages and starts daemons)"
    if do_slurm; then slurm_start; fi
    if do_sge; then sge_start; fi
    ;;
  stop)
    if do_sge; then sge_stop; fi
    if do_slurm; then slurm_stop; fi
    ;;
  status)
    rc=0
    if do_slurm; then slurm_status || rc=1; fi
    if do_sge; then sge_status || rc=1; fi
    exit "$rc"
    ;;
  *) usage ;;
esac
