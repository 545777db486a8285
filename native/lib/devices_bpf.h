/* Device rules on cgroup v2: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE
 * attached to the container's cgroup (v2 has no devices.allow/deny files). */
#ifndef BERTH_DEVICES_BPF_H
#define BERTH_DEVICES_BPF_H

#include "error.h"
#include "json.h"

/* Builds the program from linux.resources.devices (plus the nodes always allowed) and
 * attaches it to the cgroup directory. No rules, no program. */
int devices_bpf_attach (const char *cgroup_dir, json_t *devices, const char *const *always, size_t n_always,
                        berth_error_t *err);

#endif
