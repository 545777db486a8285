/** Docker's JSON shapes for images: list summary, inspect, history. */
import type { ImageRecord } from '../../images/index.js';

const secs = (iso: string) => Math.floor(Date.parse(iso) / 1000) || 0;

export function imageSummary(i: ImageRecord, version = '1.47') {
  const old = Number(version.split('.')[1]) < 43;
  return {
    Id: i.id,
    ParentId: i.parent,
    RepoTags: i.repoTags.length || !old ? i.repoTags : ['<none>:<none>'],
    RepoDigests: i.repoDigests.length || !old ? i.repoDigests : ['<none>@<none>'],
    Created: secs(i.created),
    Size: i.size,
    SharedSize: -1,
    ...(Number(version.split('.')[1]) < 44 ? { VirtualSize: i.size } : {}),
    Labels: i.config.config?.Labels ?? {},
    Containers: -1,
  };
}

export function imageInspect(i: ImageRecord, driver: string, graphData: Record<string, string>, version = '1.47') {
  const c = i.config;
  return {
    Id: i.id,
    RepoTags: i.repoTags,
    RepoDigests: i.repoDigests,
    Parent: i.parent,
    Comment: c.comment ?? '',
    Created: c.created ?? i.created,
    ...(Number(version.split('.')[1]) < 45 ? { Container: c.container ?? '', ContainerConfig: emptyContainerConfig() } : {}),
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: { ...emptyContainerConfig(), ...(c.config ?? {}) },
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: i.size,
    ...(Number(version.split('.')[1]) < 44 ? { VirtualSize: i.size } : {}),
    GraphDriver: { Name: driver, Data: graphData },
    RootFS: { Type: 'layers', Layers: c.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: i.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

function emptyContainerConfig() {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
  };
}

/** Newest first; layer-creating entries get the layer sizes, the top one the image id. */
export function imageHistory(i: ImageRecord, layerSizes: number[]) {
  const hist: NonNullable<ImageRecord['config']['history']> = i.config.history?.length ? i.config.history : (i.config.rootfs?.diff_ids ?? []).map(() => ({ created: i.created }));
  let layer = 0;
  const rows = hist.map((h) => {
    const size = h.empty_layer ? 0 : (layerSizes[layer++] ?? 0);
    return { Id: '<missing>', Created: secs(h.created ?? i.created), CreatedBy: h.created_by ?? '', Tags: null as string[] | null, Size: size, Comment: h.comment ?? '' };
  });
  rows.reverse();
  if (rows.length) {
    rows[0].Id = i.id;
    rows[0].Tags = i.repoTags;
  } else {
    rows.push({ Id: i.id, Created: secs(i.created), CreatedBy: '', Tags: i.repoTags, Size: 0, Comment: '' });
  }
  return rows;
}
