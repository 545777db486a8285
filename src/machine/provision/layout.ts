import { join } from 'node:path';

/**
 * Where berth puts things on a host. Everything hangs off `prefix` ('' = /), so the
 * local driver can run several engines side by side on one computer.
 */
export interface HostLayout {
  prefix: string;
  service: string;
  optDir: string;
  binDir: string;
  libexecDir: string;
  certDir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  pidfile: string;
  supervisorPidfile: string;
  logFile: string;
  argsFile: string;
  envFile: string;
  initScript: string;
  systemdUnit: string;
  bundleIdFile: string;
}

export function hostLayout(prefix: string, machineName: string): HostLayout {
  const p = (x: string) => (prefix ? join(prefix, x) : x);
  const service = prefix ? `berthd-${machineName}` : 'berthd';
  const optDir = p('/opt/berth');
  const certDir = p('/etc/berth');
  const execRoot = p('/run/berth');
  return {
    prefix, service, optDir,
    binDir: join(optDir, 'bin'),
    libexecDir: join(optDir, 'libexec'),
    certDir,
    dataRoot: p('/var/lib/berth'),
    execRoot,
    socket: join(execRoot, 'berthd.sock'),
    pidfile: join(execRoot, 'berthd.pid'),
    supervisorPidfile: p(`/run/${service}-supervise.pid`),
    logFile: p(`/var/log/${service}.log`),
    argsFile: join(certDir, 'berthd.args'),
    envFile: join(certDir, 'berthd.env'),
    initScript: p(`/etc/init.d/${service}`),
    systemdUnit: `/etc/systemd/system/${service}.service`,
    bundleIdFile: join(optDir, 'BUNDLE_ID'),
  };
}
