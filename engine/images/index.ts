/**
 * The image service: what the API routes and the containers service use.
 *
 * An image's id is the sha256 digest of its config JSON. Its layers live in the
 * layer store, unpacked once (overlay form) and shared, named by chain id; a
 * container asks the snapshotter for a writable snapshot on top of the image's
 * `chainId`.
 */
import type { Readable } from 'node:stream';
import type { Service } from '../engine.js';

/** The OCI image config JSON (docker's container config fields under `config`). */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
    ArgsEscaped?: boolean;
    OnBuild?: string[] | null;
    Shell?: string[];
    [k: string]: unknown;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }>;
  /** docker keeps these for commits. */
  comment?: string;
  container?: string;
  docker_version?: string;
  [k: string]: unknown;
}

export interface ImageRecord {
  /** "sha256:<hex>" of the config JSON. */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  config: ImageConfig;
  /** Chain id of the top layer; undefined for an image without layers. */
  chainId: string | undefined;
  /** Unpacked size of all layers, bytes. */
  size: number;
  /** Parent image id (commit/build), "" when none. */
  parent: string;
  /** RFC 3339, from the config. */
  created: string;
  /** When a tag last moved onto this image (docker's Metadata.LastTagTime). */
  lastTagTime?: string;
}

/** Credentials: from X-Registry-Auth, POST /auth, or none. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** docker's progress JSON messages (pull, push, load). */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: unknown;
}

export type OnProgress = (message: ProgressMessage) => void;

export interface PullOptions {
  auth?: RegistryAuth;
  /** "os/arch[/variant]"; default linux/amd64 (the host's). */
  platform?: string;
  signal?: AbortSignal;
}

export interface CommitOptions {
  /** The container's writable layer as a docker layer tar (snapshots.diffTar); absent: a config-only image (history empty_layer). */
  layerTar?: Readable;
  /** "" for an image without parent (a build FROM scratch). */
  parentImageId: string;
  /** history created_by; default: the config's Cmd joined by spaces. */
  createdBy?: string;
  /** Platform of an image without parent. */
  platform?: { os: string; architecture: string; variant?: string };
  /** Container config fields to store under the new image's `config`. */
  config: ImageConfig['config'];
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Container id, recorded like docker does. */
  container?: string;
}

export interface ListOptions {
  all?: boolean;
  filters?: Record<string, string[]>;
  digests?: boolean;
}

export interface RemoveOptions {
  force?: boolean;
  noprune?: boolean;
}

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export interface ImageService extends Service {
  resolve(nameOrId: string): Promise<ImageRecord>;
  pull(ref: string, opts?: PullOptions, onProgress?: OnProgress): Promise<ImageRecord>;
  commit(opts: CommitOptions): Promise<string>;
  /** Registers a config whose layers are all in the layer store already (a build step restored from --cache-from). */
  createFromConfig(config: ImageConfig, parentImageId: string): Promise<string>;
  list(opts?: ListOptions): Promise<ImageRecord[]>;
  tag(nameOrId: string, repo: string, tag?: string): Promise<void>;
  /** Docker's DELETE answer: [{Untagged}|{Deleted}]. */
  remove(nameOrId: string, opts?: RemoveOptions, usedBy?: (id: string) => string | undefined): Promise<Array<{ Untagged?: string; Deleted?: string }>>;
  /** Number of images, for GET /info. */
  count(): Promise<number>;
  /** Verifies credentials with the registry and remembers them for its host (POST /auth). */
  login(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }>;
  /** A root filesystem tar as a one-layer image (POST /images/create?fromSrc). */
  importTar(tar: Readable, opts: { repo?: string; tag?: string; message?: string; platform?: string; changes?: string[] }): Promise<string>;
  prune(filters: Record<string, string[]>): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }>;
  /** Hook for the containers service: which container (id) uses an image. */
  usedBy: (imageId: string) => string | undefined;
  push(name: string, tag: string | undefined, auth: RegistryAuth | undefined, onProgress: OnProgress): Promise<void>;
  save(names: string[]): Promise<Readable>;
  load(input: Readable, onProgress: OnProgress): Promise<void>;
  search(term: string, limit: number, auth: RegistryAuth | undefined): Promise<SearchResult[]>;
  /** The registry's descriptor and platforms for a reference (GET /distribution/{name}/json). */
  distribution(name: string, auth: RegistryAuth | undefined): Promise<import('./distribution.js').DistributionInspect>;
  /** Content bytes of each layer of an image, bottom first (history). */
  layerSizes(image: ImageRecord): Promise<number[]>;
  /** Where each layer's files are, for the snapshotter. */
  readonly layerDirs: import('./layers.js').LayerDirs;
}
