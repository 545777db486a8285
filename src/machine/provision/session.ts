import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import type { Bundle } from '../bundle/build.js';
import { ProvisionError } from '../errors.js';
import type { RemoteProcess, RunResult } from '../runner/index.js';
import { installScript, type Provisioner } from './index.js';
import { checkCompatible, parseFacts, probeScript, type HostFacts } from './probe.js';
import { serviceCommand, type ServiceKind } from './service.js';

const FACTS = '@berth:facts';
const INSTALLED = '@berth:installed';
const CONFIGURED = '@berth:configured';

/**
 * create's provisioning in one command on the host, so the host starts one login
 * shell, not three (each one runs the user's shell start-up files, which can take
 * seconds). The command prints the host facts, then waits for one line from berth:
 * how the bundle comes (`zst`, `gz`, or `skip` when the host has it), the service
 * kind and the bundle's id, then the configuration as one base64 line; it unpacks the
 * bundle from the rest of stdin, writes the configuration and restarts the engine. It says on
 * stdout when each part is done. Nothing is written before berth has read the facts
 * and answered: an incompatible host, or a create stopped meanwhile, ends stdin
 * and the command exits having changed nothing.
 */
export class CreateSession {
  private constructor(private readonly prov: Provisioner, private readonly proc: RemoteProcess) {}

  /** Starts the command and reads the facts (what probe() does). */
  static async start(prov: Provisioner): Promise<CreateSession> {
    const l = prov.layout;
    const enableAndRestart = (kind: ServiceKind) => `${serviceCommand(l, kind, 'enable')} && ${serviceCommand(l, kind, 'restart')}`;
    const script = [
      probeScript(l), `echo ${FACTS}`,
      // The bundle may still be in the making as this starts: its id comes with the answer.
      'read -r how kind id || exit 0',
      'case "$how" in zst|gz|skip) ;; *) exit 0 ;; esac',
      // The configuration (the server key among it) comes on stdin as one base64 line:
      // on the command line it would be in the host's process list for every user to read.
      'read -r config || exit 0',
      `if [ "$how" = zst ]; then (${installScript(l, true, '"$id"')}); fi`, 'st=$?; [ $st = 0 ] || exit $st',
      `if [ "$how" = gz ]; then (${installScript(l, false, '"$id"')}); fi`, 'st=$?; [ $st = 0 ] || exit $st',
      `echo ${INSTALLED}`,
      'printf \'%s\\n\' "$config" | base64 -d | tar -xzf - -C / || exit',
      l.prefix ? `{ ${enableAndRestart('supervised')}; } || exit` : `if [ "$kind" = systemd ]; then ${enableAndRestart('systemd')}; else ${enableAndRestart('supervised')}; fi || exit`,
      `echo ${CONFIGURED}`,
    ].join('\n');
    const proc = await prov.runner.start(script);
    const s = new CreateSession(prov, proc);
    const out = await proc.until(FACTS).catch((r: RunResult) => { throw s.failed(r, 'reading the host facts'); });
    prov.facts = parseFacts(out, l, prov.runner.target);
    checkCompatible(prov.facts, prov.runner.target);
    return s;
  }

  get facts(): HostFacts {
    return this.prov.facts!;
  }

  /** Sends the bundle unless the host has this exact one; true when it did. Resolves once it is unpacked. */
  async installBundle(bundle: Bundle): Promise<boolean> {
    const facts = this.facts;
    const stdin = this.proc.stdin;
    stdin.on('error', () => undefined); // a failed unpack stops reading: its exit status is what counts
    const config = gzipSync(await this.prov.configTar(this.prov.layout.prefix ? 'supervised' : facts.service)).toString('base64');
    // Made only now, with nothing awaited before it is: a rejection must not find it without a handler.
    const installed = this.proc.until(INSTALLED).catch((r: RunResult) => { throw this.failed(r, 'installing the engine bundle'); });
    if (facts.bundleId === bundle.id) {
      stdin.end(`skip ${facts.service}\n${config}\n`);
      await installed;
      return false;
    }
    const zst = facts.zstd && bundle.zstdPath !== undefined;
    stdin.write(`${zst ? 'zst' : 'gz'} ${facts.service} ${bundle.id}\n${config}\n`);
    await Promise.all([installed, pipeline(createReadStream(zst ? bundle.zstdPath! : bundle.path), stdin).catch(() => undefined)]);
    facts.bundleId = bundle.id;
    return true;
  }

  /** Resolves once the configuration is written and the engine restarted. */
  async configured(): Promise<void> {
    await this.proc.until(CONFIGURED).catch((r: RunResult) => { throw this.failed(r, 'writing the engine configuration'); });
    const r = await this.proc.done;
    if (r.code !== 0) throw this.failed(r, 'writing the engine configuration');
  }

  private failed(r: RunResult, what: string): Error {
    const detail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
    return new ProvisionError(`${what} on ${this.prov.runner.target} failed (exit ${r.code})${detail ? `: ${detail}` : ''}`);
  }
}
