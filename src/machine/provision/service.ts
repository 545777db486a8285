import { shq } from '../runner/index.js';
import type { HostLayout } from './layout.js';

/**
 * How berthd runs on a host. Where systemd is PID 1 (and no prefix isolates the
 * install) it is a systemd unit with Restart=on-failure. Elsewhere a small shell
 * supervisor keeps it alive: it restarts berthd one second after any exit, forwards
 * TERM for a clean stop, and an /etc/init.d script (registered with update-rc.d,
 * rc-update or chkconfig, whichever the host has) starts the supervisor at boot.
 */
export type ServiceKind = 'systemd' | 'supervised';

export interface ServiceFile { path: string; content: string; mode: number }

/** Starts berthd with the arguments of the args file (one per line) and the env file. */
function runScript(l: HostLayout): string {
  return `#!/bin/sh
# Runs berthd with ${l.argsFile} (one argument per line) and ${l.envFile}.
set -a
[ -f ${shq(l.envFile)} ] && . ${shq(l.envFile)}
set +a
# V8 grows its young generation to 32 MB under a burst of API calls and keeps it: 2 MB
# semi-spaces keep berthd's RSS near its start over thousands of runs (bench/rss.sh), for
# a CPU cost per run within bench/run.sh's run-to-run spread.
export NODE_OPTIONS="--max-semi-space-size=2\${NODE_OPTIONS:+ \$NODE_OPTIONS}"
set --
while IFS= read -r a; do set -- "$@" "$a"; done < ${shq(l.argsFile)}
exec ${shq(l.binDir + '/berthd')} "$@"
`;
}

function superviseScript(l: HostLayout): string {
  return `#!/bin/sh
# Keeps berthd running where systemd does not: restarts it 1 s after it exits;
# TERM stops berthd cleanly, then the supervisor.
echo $$ > ${shq(l.supervisorPidfile)}
stopping=
child=
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
while [ -z "$stopping" ]; do
  ${shq(l.libexecDir + '/berthd-run')} >>${shq(l.logFile)} 2>&1 &
  child=$!
  wait "$child"
  while kill -0 "$child" 2>/dev/null; do wait "$child"; done
  child=
  [ -n "$stopping" ] || sleep 1
done
rm -f ${shq(l.supervisorPidfile)}
`;
}

function initScript(l: HostLayout): string {
  const pid = shq(l.supervisorPidfile);
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${l.service}
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: berth engine (supervised)
### END INIT INFO
running() { [ -f ${pid} ] && kill -0 "$(cat ${pid})" 2>/dev/null; }
engine_running() { [ -f ${shq(l.pidfile)} ] && kill -0 "$(cat ${shq(l.pidfile)})" 2>/dev/null; }
case "$1" in
  start)
    running && exit 0
    mkdir -p ${shq(l.execRoot)} "$(dirname ${shq(l.logFile)})"
    setsid ${shq(l.libexecDir + '/berthd-supervise')} </dev/null >/dev/null 2>&1 &
    i=0; while ! running && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    running ;;
  stop)
    if running; then
      kill -TERM "$(cat ${pid})"
      i=0; while running && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
      running && kill -KILL "$(cat ${pid})"
    fi
    rm -f ${pid}
    exit 0 ;;
  kill)
    running && kill -KILL "$(cat ${pid})"
    engine_running && kill -KILL "$(cat ${shq(l.pidfile)})"
    rm -f ${pid}
    exit 0 ;;
  restart) "$0" stop; "$0" start ;;
  status) engine_running ;;
  *) echo "usage: $0 start|stop|restart|kill|status" >&2; exit 2 ;;
esac
`;
}

function systemdUnit(l: HostLayout): string {
  return `[Unit]
Description=berth engine
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=${l.libexecDir}/berthd-run
Restart=on-failure
RestartSec=1
KillMode=process
Delegate=yes
LimitNOFILE=infinity

[Install]
WantedBy=multi-user.target
`;
}

export function serviceFiles(l: HostLayout, kind: ServiceKind): ServiceFile[] {
  const files: ServiceFile[] = [{ path: `${l.libexecDir}/berthd-run`, content: runScript(l), mode: 0o755 }];
  if (kind === 'systemd') files.push({ path: l.systemdUnit, content: systemdUnit(l), mode: 0o644 });
  else {
    files.push({ path: `${l.libexecDir}/berthd-supervise`, content: superviseScript(l), mode: 0o755 });
    files.push({ path: l.initScript, content: initScript(l), mode: 0o755 });
  }
  return files;
}

/** Shell commands for each service action. */
export function serviceCommand(l: HostLayout, kind: ServiceKind, action: 'enable' | 'start' | 'stop' | 'restart' | 'kill' | 'status' | 'disable'): string {
  const init = shq(l.initScript);
  if (kind === 'systemd') {
    const s = shq(l.service);
    switch (action) {
      case 'enable': return `systemctl daemon-reload && systemctl enable -q ${s}`;
      case 'disable': return `systemctl disable -q ${s} 2>/dev/null; rm -f ${shq(l.systemdUnit)}; systemctl daemon-reload`;
      case 'kill': return `systemctl kill -s KILL ${s}; systemctl stop ${s}`;
      case 'status': return `systemctl is-active -q ${s}`;
      default: return `systemctl ${action} ${s}`;
    }
  }
  switch (action) {
    case 'enable':
      // Boot registration only for a real install: a prefixed engine is a guest on this host.
      if (l.prefix) return 'true';
      // Already registered (a re-provision): skip the registration tools, they are slow scripts.
      return `if [ -n "$(ls /etc/rc2.d/S*${l.service} /etc/runlevels/default/${l.service} 2>/dev/null)" ]; then :; ` +
        `elif command -v update-rc.d >/dev/null; then update-rc.d ${shq(l.service)} defaults >/dev/null 2>&1 || true; ` +
        `elif command -v rc-update >/dev/null; then rc-update add ${shq(l.service)} default >/dev/null 2>&1 || true; ` +
        `elif command -v chkconfig >/dev/null; then chkconfig --add ${shq(l.service)} || true; fi`;
    case 'disable':
      return l.prefix ? `rm -f ${init}` : `if command -v update-rc.d >/dev/null; then update-rc.d -f ${shq(l.service)} remove >/dev/null 2>&1; ` +
        `elif command -v rc-update >/dev/null; then rc-update del ${shq(l.service)} >/dev/null 2>&1; ` +
        `elif command -v chkconfig >/dev/null; then chkconfig --del ${shq(l.service)}; fi; rm -f ${init}`;
    default: return `${init} ${action}`;
  }
}
