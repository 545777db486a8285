/**
 * The engine's side of the OCI runtime contract (see docs/runtime.md for berth-runtime's).
 *
 * - spec.ts builds config.json from a container's docker Config/HostConfig with docker's
 *   defaults (defaults.ts: capabilities, mounts, masked/read-only paths, devices;
 *   seccomp-default.ts: docker's default profile as data; security.ts: cap-add/drop,
 *   privileged, SecurityOpt; resources.ts: limits and their bounds; user.ts: `User`
 *   resolved against the image's /etc/passwd and /etc/group).
 * - The rootfs: the engine mounts the snapshotter's Mount[] (one overlay mount, or a bind
 *   for vfs) at <exec-root>/bundles/<id>/rootfs itself, with one mount call, and hands the
 *   runtime that directory as `root.path`. So any runc-compatible runtime (crun, runc via
 *   --runtime) runs the same bundle, and the mount outlives berthd for live restore.
 * - client.ts shells out to the runtime, one exec per step (create, start, kill, delete,
 *   pause, resume, update, ps, exec), always with `--root <exec-root>/runtime` and
 *   cgroupsPath `/berth/<id>`. `create` runs with stdio on /dev/null: the container must
 *   not inherit a pipe that would hold the call open.
 * - monitor.ts speaks berth-runtime's monitor socket (ATTACH, RESIZE, WAIT). The engine
 *   asks for it with `io.berth.*` annotations (socket <exec-root>/m/<id prefix>.sock, kept
 *   short for the 107-byte limit of unix socket paths; json-file log path and rotation;
 *   stdin, stdin-once). Runtimes without a monitor (crun, runc) get no annotations: their
 *   containers run, but without logs or attach, and exits are found by polling `state`.
 */
export { buildSpec, type SpecInput, type NetworkNamespace } from './spec.js';
export { RuntimeClient, type RuntimeState, type ExecOptions } from './client.js';
export { attach, resize, waitExit, type ExitStatus } from './monitor.js';
export type { OciSpec } from './oci.js';
