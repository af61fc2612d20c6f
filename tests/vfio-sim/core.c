/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim core: the configuration, the sysfs tree QEMU reads, and the
 * kernel's VFIO core on our fds: container + type1 IOMMU (drivers/vfio/
 * container.c, vfio_iommu_type1.c), group and device files (vfio_main.c)
 * and dma-buf files, each following Linux 6.1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "sim.h"

#define SIM_MAX_FD 4096
#define SIM_MAX_DMA 1024
#define SIM_MAX_COUNTERS 32
/* vfio_iommu_type1.c: dma_entry_limit defaults to U16_MAX */
#define TYPE1_DMA_ENTRY_LIMIT 65535

typedef struct SimDma {
    uint64_t iova, size;
} SimDma;

typedef struct SimContainer {
    int groups;              /* groups attached */
    bool iommu_set;          /* VFIO_SET_IOMMU done */
    SimDma dma[SIM_MAX_DMA];
    int ndma;
} SimContainer;

struct SimFile {
    enum SimFileType type;
    int fd;
    int refs;           /* fds sharing this open file (dup, fcntl) */
    union {
        SimContainer *container;
        struct {
            int id;
            SimContainer *container;
            int container_users;
        } group;
        SimDevice *dev;
        SimDmabuf dmabuf;
    } u;
};

typedef struct SimCounter {
    SimDevice *dev;
    char name[32];
    unsigned value;
} SimCounter;

static pthread_mutex_t sim_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t sim_once = PTHREAD_ONCE_INIT;
static SimDevice devices[SIM_MAX_DEVICES];
static int ndevices;
static SimFile *files[SIM_MAX_FD];
static SimCounter counters[SIM_MAX_COUNTERS * SIM_MAX_DEVICES];
static int ncounters;
static char root[256];
static const char *debug;

static const SimModelOps *const models[] = {
    &sim_model_mdpy,
    &sim_model_mbochs,
    &sim_model_gvt,
    &sim_model_nvidia,
};

void sim_log(const char *cat, const char *fmt, ...)
{
    va_list ap;

    if (!debug || (strcmp(debug, "all") && !strstr(debug, cat))) {
        return;
    }
    fprintf(stderr, "vfio-sim[%s]: ", cat);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "vfio-sim: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

int sim_memfd(const char *name, uint64_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0 || ftruncate(fd, size) < 0) {
        die("memfd %s of %llu bytes: %s", name, (unsigned long long)size,
            strerror(errno));
    }
    return fd;
}

/* ---- configuration and sysfs ---------------------------------------- */

static void mkdirs(const char *path)
{
    char tmp[512];
    char *p;

    snprintf(tmp, sizeof(tmp), "%s", path);
    for (p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

static void relink(const char *target, const char *fmt, ...)
{
    char path[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    unlink(path);
    if (symlink(target, path) < 0) {
        die("symlink %s: %s", path, strerror(errno));
    }
}

/*
 * The part of sysfs that QEMU reads for sysfsdev=/sys/bus/mdev/devices/UUID:
 * the device directory, its iommu_group link (a group number as basename)
 * and its subsystem link (realpath /sys/bus/mdev marks an mdev).
 */
static void make_sysfs(SimDevice *d)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s", root, d->uuid);
    mkdirs(path);
    snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%d/devices",
             root, d->group);
    mkdirs(path);
    snprintf(path, sizeof(path), "../../../../kernel/iommu_groups/%d",
             d->group);
    relink(path, "%s/sys/bus/mdev/devices/%s/iommu_group", root, d->uuid);
    relink("../../../../bus/mdev", "%s/sys/bus/mdev/devices/%s/subsystem",
           root, d->uuid);
    snprintf(path, sizeof(path), "../../../../bus/mdev/devices/%s", d->uuid);
    relink(path, "%s/sys/kernel/iommu_groups/%d/devices/%s", root, d->group,
           d->uuid);
}

static const SimModelOps *model_by_name(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        if (!strcmp(models[i]->name, name)) {
            return models[i];
        }
    }
    return NULL;
}

static void parse_line(char *line, int lineno)
{
    SimDevice *d = &devices[ndevices];
    char *tok, *save = NULL, err[256] = "";
    const char *group;
    int i;

    tok = strtok_r(line, " \t\n", &save);
    if (!tok || tok[0] == '#') {
        return;
    }
    if (ndevices == SIM_MAX_DEVICES) {
        die("config line %d: more than %d devices", lineno, SIM_MAX_DEVICES);
    }
    snprintf(d->uuid, sizeof(d->uuid), "%s", tok);
    tok = strtok_r(NULL, " \t\n", &save);
    d->ops = tok ? model_by_name(tok) : NULL;
    if (!d->ops) {
        die("config line %d: unknown model '%s'", lineno, tok ? tok : "");
    }
    while ((tok = strtok_r(NULL, " \t\n", &save)) && d->nopts < SIM_MAX_OPTS) {
        char *eq = strchr(tok, '=');

        if (!eq) {
            die("config line %d: '%s' is not key=value", lineno, tok);
        }
        *eq = 0;
        snprintf(d->opts[d->nopts].key, sizeof(d->opts[0].key), "%s", tok);
        snprintf(d->opts[d->nopts].value, sizeof(d->opts[0].value), "%s",
                 eq + 1);
        d->nopts++;
    }
    group = sim_opt(d, "group", NULL);
    d->group = group ? atoi(group) : 100 + ndevices;
    if (d->ops->init(d, err, sizeof(err)) < 0) {
        die("config line %d: %s: %s", lineno, d->uuid, err);
    }
    for (i = 0; i < d->nopts; i++) {
        if ((!strcmp(d->opts[i].key, "fault") ||
             !strcmp(d->opts[i].key, "hostile")) &&
            sim_fault_add(d, d->opts[i].key, d->opts[i].value, err,
                          sizeof(err)) < 0) {
            die("config line %d: %s: %s", lineno, d->uuid, err);
        }
    }
    ndevices++;
    make_sysfs(d);
    sim_log("config", "%s: model %s, group %d", d->uuid, d->ops->name,
            d->group);
}

static void sim_do_init(void)
{
    const char *cfg = getenv("VFIO_SIM_CONFIG");
    const char *dir = getenv("VFIO_SIM_DIR");
    char line[1024];
    int lineno = 0;
    FILE *f;

    debug = getenv("VFIO_SIM_DEBUG");
    if (!cfg) {
        return;
    }
    if (dir) {
        snprintf(root, sizeof(root), "%s", dir);
    } else {
        snprintf(root, sizeof(root), "/tmp/vfio-sim.%d", (int)getpid());
    }
    f = fopen(cfg, "r");
    if (!f) {
        die("VFIO_SIM_CONFIG=%s: %s", cfg, strerror(errno));
    }
    while (fgets(line, sizeof(line), f)) {
        parse_line(line, ++lineno);
    }
    fclose(f);
    sim_control_start();
}

void sim_init(void)
{
    pthread_once(&sim_once, sim_do_init);
}

const char *sim_root(void)
{
    sim_init();
    return root[0] ? root : NULL;
}

const char *sim_opt(SimDevice *dev, const char *key, const char *dflt)
{
    int i;

    for (i = 0; i < dev->nopts; i++) {
        if (!strcmp(dev->opts[i].key, key)) {
            return dev->opts[i].value;
        }
    }
    return dflt;
}

int sim_opt_cpu_mmap_errno(SimDevice *dev, int deny_errno, char *err,
                           size_t errlen)
{
    const char *v = sim_opt(dev, "dmabuf-cpu-mmap", "deny");

    if (!strcmp(v, "deny")) {
        return deny_errno;
    }
    if (!strcmp(v, "allow")) {
        return 0;
    }
    snprintf(err, errlen, "dmabuf-cpu-mmap=%s: deny or allow", v);
    return -EINVAL;
}

SimDevice *sim_device_find(const char *uuid, bool removed_too)
{
    int i;

    sim_init();
    for (i = 0; uuid && i < ndevices; i++) {
        if ((removed_too || !devices[i].removed) &&
            !strcmp(devices[i].uuid, uuid)) {
            return &devices[i];
        }
    }
    return NULL;
}

SimDevice *sim_device_by_uuid(const char *uuid)
{
    return sim_device_find(uuid, false);
}

SimDevice *sim_device_in_group(int group, const char *name)
{
    int i;

    for (i = 0; i < ndevices; i++) {
        if (!devices[i].removed && devices[i].group == group &&
            !strcmp(devices[i].uuid, name)) {
            return &devices[i];
        }
    }
    return NULL;
}

bool sim_group_exists(int group)
{
    int i;

    sim_init();
    for (i = 0; i < ndevices; i++) {
        if (!devices[i].removed && devices[i].group == group) {
            return true;
        }
    }
    return false;
}

int sim_device_count(void)
{
    sim_init();
    return ndevices;
}

SimDevice *sim_device_at(int i)
{
    return &devices[i];
}

void sim_lock_acquire(void)
{
    pthread_mutex_lock(&sim_lock);
}

void sim_lock_release(void)
{
    pthread_mutex_unlock(&sim_lock);
}

/*
 * The mdev's remove: vfio_unregister_group_dev waits, the device working
 * on, until its last fd is closed (none of the modelled drivers has a
 * .request op to ask userspace); then the device and its sysfs node go.
 */
static void remove_device(SimDevice *d)
{
    char path[512];

    d->removed = true;
    snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%d/devices/%s",
             root, d->group, d->uuid);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s/iommu_group",
             root, d->uuid);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s/subsystem",
             root, d->uuid);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s", root,
             d->uuid);
    rmdir(path);
    sim_count(d, "unplug-removed");
}

bool sim_device_unplug(SimDevice *dev)
{
    if (!dev->removed && dev->open_count) {
        if (!dev->remove_pending) {
            sim_count(dev, "unplug-pending");
        }
        dev->remove_pending = true;
        return false;
    }
    if (!dev->removed) {
        remove_device(dev);
    }
    return true;
}

void sim_counters_format(SimDevice *dev, char *buf, size_t len)
{
    size_t used = 0;
    int i;

    buf[0] = 0;
    pthread_mutex_lock(&sim_lock);
    for (i = 0; i < ncounters && used < len; i++) {
        if (counters[i].dev == dev) {
            used += snprintf(buf + used, len - used, "%s%s=%u",
                             used ? " " : "", counters[i].name,
                             counters[i].value);
        }
    }
    pthread_mutex_unlock(&sim_lock);
}

void sim_count(SimDevice *dev, const char *what)
{
    int i;

    pthread_mutex_lock(&sim_lock);
    for (i = 0; i < ncounters; i++) {
        if (counters[i].dev == dev && !strcmp(counters[i].name, what)) {
            break;
        }
    }
    if (i == ncounters && ncounters < (int)(sizeof(counters) /
                                            sizeof(counters[0]))) {
        counters[i].dev = dev;
        snprintf(counters[i].name, sizeof(counters[i].name), "%s", what);
        ncounters++;
    }
    if (i < ncounters) {
        counters[i].value++;
    }
    pthread_mutex_unlock(&sim_lock);
}

unsigned sim_counter(SimDevice *dev, const char *what)
{
    unsigned v = 0;
    int i;

    pthread_mutex_lock(&sim_lock);
    for (i = 0; i < ncounters; i++) {
        if (counters[i].dev == dev && !strcmp(counters[i].name, what)) {
            v = counters[i].value;
        }
    }
    pthread_mutex_unlock(&sim_lock);
    return v;
}

/* ---- files ------------------------------------------------------------ */

/* Track the fresh fd @fd (or -errno) as one of ours of @type */
static int track_file(int fd, enum SimFileType type, SimFile **out)
{
    SimFile *f;

    if (fd < 0) {
        return -errno;
    }
    if (fd >= SIM_MAX_FD) {
        close(fd);
        return -EMFILE;
    }
    f = calloc(1, sizeof(*f));
    f->type = type;
    f->fd = fd;
    f->refs = 1;
    pthread_mutex_lock(&sim_lock);
    files[fd] = f;
    pthread_mutex_unlock(&sim_lock);
    *out = f;
    return fd;
}

static int new_file(enum SimFileType type, const char *name, int flags,
                    SimFile **out)
{
    return track_file(memfd_create(name, (flags & O_CLOEXEC) ?
                                   MFD_CLOEXEC : 0), type, out);
}

SimFile *sim_file(int fd)
{
    if (fd < 0 || fd >= SIM_MAX_FD) {
        return NULL;
    }
    return files[fd];
}

enum SimFileType sim_file_type(SimFile *f)
{
    return f->type;
}

/* vfio_fops_open: a container with no group and no IOMMU driver */
int sim_open_container(int flags)
{
    SimFile *f;
    int fd = new_file(SIM_FILE_CONTAINER, "vfio-sim-container", flags, &f);

    if (fd >= 0) {
        f->u.container = calloc(1, sizeof(SimContainer));
    }
    return fd;
}

/* vfio_group_fops_open: -ENODEV for a group without devices */
int sim_open_group(int group, int flags)
{
    SimFile *f;
    int fd;

    if (!sim_group_exists(group)) {
        return -ENOENT;
    }
    fd = new_file(SIM_FILE_GROUP, "vfio-sim-group", flags, &f);
    if (fd >= 0) {
        f->u.group.id = group;
    }
    return fd;
}

/* ---- container: vfio_fops_unl_ioctl + vfio_iommu_type1_ioctl --------- */

/* vfio_iommu_type1_check_extension (iommu == NULL before SET_IOMMU) */
static long type1_check_extension(SimContainer *c, unsigned long arg)
{
    switch (arg) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_TYPE1_NESTING_IOMMU:
    case VFIO_UNMAP_ALL:
        return 1;
    case VFIO_UPDATE_VADDR:
        /* disabled when mdevs (emulated IOMMU groups) are present */
        return 0;
    default:
        return 0;
    }
}

/* vfio_iommu_type1_get_info: pgsize_bitmap = PAGE_MASK, no capabilities */
static long type1_get_info(void *arg)
{
    struct vfio_iommu_type1_info *info = arg;
    size_t minsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes) +
                   sizeof(info->iova_pgsizes);

    if (info->argsz < minsz) {
        return -EINVAL;
    }
    info->flags = VFIO_IOMMU_INFO_PGSIZES;
    info->iova_pgsizes = ~(uint64_t)(SIM_PAGE_SIZE - 1);
    if (info->argsz >= sizeof(*info)) {
        info->cap_offset = 0;
    }
    return 0;
}

/* vfio_dma_do_map: alignment, overlap (-EEXIST), entry limit (-ENOSPC) */
static long type1_map_dma(SimContainer *c, struct vfio_iommu_type1_dma_map *m)
{
    size_t minsz = offsetof(struct vfio_iommu_type1_dma_map, size) +
                   sizeof(m->size);
    uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
                    VFIO_DMA_MAP_FLAG_VADDR;
    int i;

    if (m->argsz < minsz || (m->flags & ~mask)) {
        return -EINVAL;
    }
    if (m->flags & VFIO_DMA_MAP_FLAG_VADDR) {
        return -EINVAL;  /* VFIO_UPDATE_VADDR is off with mdevs */
    }
    if (!m->size || ((m->size | m->iova | m->vaddr) & (SIM_PAGE_SIZE - 1))) {
        return -EINVAL;
    }
    if (m->iova + m->size - 1 < m->iova || m->vaddr + m->size - 1 < m->vaddr) {
        return -EINVAL;
    }
    for (i = 0; i < c->ndma; i++) {
        if (m->iova < c->dma[i].iova + c->dma[i].size &&
            c->dma[i].iova < m->iova + m->size) {
            return -EEXIST;
        }
    }
    if (c->ndma == SIM_MAX_DMA || c->ndma == TYPE1_DMA_ENTRY_LIMIT) {
        return -ENOSPC;
    }
    c->dma[c->ndma].iova = m->iova;
    c->dma[c->ndma].size = m->size;
    c->ndma++;
    return 0;
}

/* vfio_dma_do_unmap: removes whole mappings in the range, reports size */
static long type1_unmap_dma(SimContainer *c,
                            struct vfio_iommu_type1_dma_unmap *u)
{
    size_t minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) +
                   sizeof(u->size);
    uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
                    VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR;
    uint64_t lo = u->iova, hi = u->iova + u->size, done = 0;
    int i;

    if (u->argsz < minsz || (u->flags & ~mask)) {
        return -EINVAL;
    }
    if (u->flags & VFIO_DMA_UNMAP_FLAG_ALL) {
        if (u->iova || u->size) {
            return -EINVAL;
        }
        lo = 0;
        hi = UINT64_MAX;
    } else if ((u->iova | u->size) & (SIM_PAGE_SIZE - 1)) {
        return -EINVAL;
    }
    for (i = 0; i < c->ndma;) {
        if (c->dma[i].iova >= lo && c->dma[i].iova + c->dma[i].size <= hi) {
            done += c->dma[i].size;
            c->dma[i] = c->dma[--c->ndma];
        } else {
            i++;
        }
    }
    u->size = done;
    return 0;
}

static long container_ioctl(SimContainer *c, unsigned long req, void *arg)
{
    switch (req) {
    case VFIO_GET_API_VERSION:
        return VFIO_API_VERSION;
    case VFIO_CHECK_EXTENSION:
        return type1_check_extension(c, (unsigned long)arg);
    case VFIO_SET_IOMMU:
        /* vfio_ioctl_set_iommu */
        if (!c->groups || c->iommu_set) {
            return -EINVAL;
        }
        if (type1_check_extension(c, (unsigned long)arg) <= 0 ||
            (unsigned long)arg == VFIO_UNMAP_ALL) {
            return -ENODEV;
        }
        c->iommu_set = true;
        return 0;
    }
    if (!c->iommu_set) {
        return -EINVAL;  /* no driver: unrecognized ioctls fail */
    }
    switch (req) {
    case VFIO_IOMMU_GET_INFO:
        return type1_get_info(arg);
    case VFIO_IOMMU_MAP_DMA:
        return type1_map_dma(c, arg);
    case VFIO_IOMMU_UNMAP_DMA:
        return type1_unmap_dma(c, arg);
    case VFIO_IOMMU_DIRTY_PAGES:
        return -EINVAL;  /* no dirty tracking started */
    default:
        return -ENOTTY;
    }
}

/* ---- group: vfio_group_fops_unl_ioctl --------------------------------- */

static long group_get_device_fd(SimFile *g, const char *name)
{
    SimDevice *dev = sim_device_in_group(g->u.group.id, name);
    SimFile *f;
    int fd;

    if (!dev) {
        return -ENODEV;  /* vfio_device_get_from_name */
    }
    /* vfio_device_assign_container */
    if (!g->u.group.container || !g->u.group.container->iommu_set) {
        return -EINVAL;
    }
    fd = new_file(SIM_FILE_DEVICE, "vfio-sim-device", O_CLOEXEC, &f);
    if (fd < 0) {
        return fd;
    }
    f->u.dev = dev;
    dev->open_count++;
    g->u.group.container_users++;
    sim_log("group", "device fd %d for %s", fd, name);
    return fd;
}

static long group_ioctl(SimFile *g, unsigned long req, void *arg)
{
    struct vfio_group_status *st = arg;
    SimFile *cf;

    switch (req) {
    case VFIO_GROUP_GET_DEVICE_FD:
        return group_get_device_fd(g, arg);
    case VFIO_GROUP_GET_STATUS:
        if (st->argsz < offsetof(struct vfio_group_status, flags) +
            sizeof(st->flags)) {
            return -EINVAL;
        }
        st->flags = VFIO_GROUP_FLAGS_VIABLE;
        if (g->u.group.container) {
            st->flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
        }
        return 0;
    case VFIO_GROUP_SET_CONTAINER:
        cf = sim_file(*(int *)arg);
        if (fcntl(*(int *)arg, F_GETFD) < 0) {
            return -EBADF;
        }
        if (g->u.group.container) {
            return -EINVAL;
        }
        if (!cf || cf->type != SIM_FILE_CONTAINER) {
            return -EINVAL;
        }
        /* __vfio_container_attach_groups: a set IOMMU takes the group */
        g->u.group.container = cf->u.container;
        cf->u.container->groups++;
        return 0;
    case VFIO_GROUP_UNSET_CONTAINER:
        if (!g->u.group.container) {
            return -EINVAL;
        }
        if (g->u.group.container_users) {
            return -EBUSY;
        }
        if (!--g->u.group.container->groups) {
            /* the last group out deprivileges the container */
            g->u.group.container->iommu_set = false;
            g->u.group.container->ndma = 0;
        }
        g->u.group.container = NULL;
        return 0;
    default:
        return -ENOTTY;
    }
}

/* ---- device: vfio_device_fops_unl_ioctl ------------------------------- */

/*
 * vfio_ioctl_device_feature: the samples have no migration, logging or
 * device_feature ops, so every well-formed request is -ENOTTY
 */
static long device_feature(struct vfio_device_feature *feat)
{
    uint32_t known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
                     VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE;

    if (feat->argsz < offsetof(struct vfio_device_feature, flags) +
        sizeof(feat->flags)) {
        return -EINVAL;
    }
    if (feat->flags & ~known) {
        return -EINVAL;
    }
    if (!(feat->flags & VFIO_DEVICE_FEATURE_PROBE) &&
        (feat->flags & VFIO_DEVICE_FEATURE_SET) &&
        (feat->flags & VFIO_DEVICE_FEATURE_GET)) {
        return -EINVAL;
    }
    return -ENOTTY;
}

/* ---- dma-buf files (drivers/dma-buf/dma-buf.c) ------------------------ */

int sim_dmabuf_fd(const SimDmabuf *buf)
{
    char path[64];
    SimFile *f;
    int fd;

    /*
     * A new open file of the backing memfd: same pages, zero-copy, its
     * own file offset, O_CLOEXEC as dma_buf_fd() was asked by the exporter
     * (the samples pass 0, i915 DRM_CLOEXEC).
     */
    snprintf(path, sizeof(path), "/proc/self/fd/%d", buf->backing_fd);
    fd = track_file(open(path, O_RDWR | buf->fd_flags), SIM_FILE_DMABUF, &f);
    if (fd >= 0) {
        f->u.dmabuf = *buf;
    }
    return fd;
}

static long dmabuf_ioctl(SimFile *f, unsigned long req, void *arg)
{
    struct dma_buf_sync *sync = arg;

    switch (req) {
    case DMA_BUF_IOCTL_SYNC:
        /* dma_buf_ioctl: unknown flags or no direction: -EINVAL */
        if (sync->flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) {
            return -EINVAL;
        }
        if (!(sync->flags & DMA_BUF_SYNC_RW)) {
            return -EINVAL;
        }
        return 0;
    default:
        return -ENOTTY;
    }
}

/* ---- dispatch from the shim ------------------------------------------ */

long sim_file_ioctl(SimFile *f, unsigned long req, void *arg)
{
    long ret;

    pthread_mutex_lock(&sim_lock);
    switch (f->type) {
    case SIM_FILE_CONTAINER:
        ret = container_ioctl(f->u.container, req, arg);
        break;
    case SIM_FILE_GROUP:
        ret = group_ioctl(f, req, arg);
        break;
    case SIM_FILE_DEVICE:
        if (req == VFIO_DEVICE_FEATURE) {
            ret = device_feature(arg);
        } else {
            ret = sim_fault_before(f->u.dev, req, arg);
            if (!ret) {
                ret = f->u.dev->ops->ioctl(f->u.dev, req, arg);
                if (!ret) {
                    sim_fault_after(f->u.dev, req, arg);
                }
            }
        }
        break;
    case SIM_FILE_DMABUF:
        ret = dmabuf_ioctl(f, req, arg);
        break;
    default:
        ret = -ENOTTY;
    }
    pthread_mutex_unlock(&sim_lock);
    sim_log("ioctl", "fd %d type %d req 0x%lx -> %ld", f->fd, f->type, req,
            ret);
    return ret;
}

ssize_t sim_file_rw(SimFile *f, void *buf, size_t count, uint64_t pos,
                    bool is_write)
{
    ssize_t ret;

    if (f->type != SIM_FILE_DEVICE) {
        return -EINVAL;  /* container and group have no read/write */
    }
    pthread_mutex_lock(&sim_lock);
    ret = f->u.dev->ops->rw(f->u.dev, buf, count, pos, is_write);
    pthread_mutex_unlock(&sim_lock);
    return ret;
}

int sim_file_mmap(SimFile *f, uint64_t offset, size_t len, int flags,
                  bool from_gpu_driver, int *backing_fd, off_t *backing_off)
{
    SimDmabuf *b;
    int ret;

    switch (f->type) {
    case SIM_FILE_DEVICE:
        pthread_mutex_lock(&sim_lock);
        ret = f->u.dev->ops->mmap(f->u.dev, offset, len, flags, backing_fd,
                                  backing_off);
        pthread_mutex_unlock(&sim_lock);
        return ret;
    case SIM_FILE_DMABUF:
        b = &f->u.dmabuf;
        if (!from_gpu_driver && b->cpu_mmap_errno) {
            sim_count(b->dev, "dmabuf-cpu-mmap-refused");
            return -b->cpu_mmap_errno;
        }
        /* dma_buf_mmap_internal: the range must lie inside the buffer */
        if (offset + len < offset ||
            offset + len > ((b->size + SIM_PAGE_SIZE - 1) &
                            ~(uint64_t)(SIM_PAGE_SIZE - 1))) {
            return -EINVAL;
        }
        *backing_fd = b->backing_fd;
        *backing_off = b->offset + offset;
        return 0;
    default:
        return -ENODEV;  /* container and group files have no mmap */
    }
}

off_t sim_file_lseek(SimFile *f, off_t offset, int whence)
{
    /* dma_buf_llseek: only 0 from SEEK_SET or SEEK_END */
    if (f->type != SIM_FILE_DMABUF) {
        return -ESPIPE;
    }
    if (offset != 0) {
        return -EINVAL;
    }
    if (whence == SEEK_END) {
        return f->u.dmabuf.size;
    }
    if (whence == SEEK_SET) {
        return 0;
    }
    return -EINVAL;
}

/*
 * dup(), dup2(), dup3() and fcntl(F_DUPFD*) made @newfd a duplicate of
 * @oldfd: the same open file, as the kernel shares one struct file, so
 * that a duplicate follows the same rules (an importer's dup of a dma-buf
 * is still that dma-buf) and the file is released with its last fd.
 */
void sim_file_dup(int oldfd, int newfd)
{
    SimFile *f;

    if (newfd < 0 || newfd >= SIM_MAX_FD || newfd == oldfd) {
        return;
    }
    sim_file_close(newfd);      /* dup2 onto a tracked fd closed it */
    pthread_mutex_lock(&sim_lock);
    f = sim_file(oldfd);
    if (f) {
        f->refs++;
        files[newfd] = f;
    }
    pthread_mutex_unlock(&sim_lock);
}

void sim_file_close(int fd)
{
    SimFile *f;

    pthread_mutex_lock(&sim_lock);
    f = sim_file(fd);
    if (f) {
        files[fd] = NULL;
        if (--f->refs > 0) {
            pthread_mutex_unlock(&sim_lock);
            return;
        }
        if (f->type == SIM_FILE_DEVICE) {
            if (!--f->u.dev->open_count) {
                if (f->u.dev->ops->close_device) {
                    f->u.dev->ops->close_device(f->u.dev);
                }
                if (f->u.dev->remove_pending) {
                    remove_device(f->u.dev);
                }
            }
        } else if (f->type == SIM_FILE_DMABUF && f->u.dmabuf.dev->ops->
                   dmabuf_release) {
            f->u.dmabuf.dev->ops->dmabuf_release(f->u.dmabuf.dev,
                                                 f->u.dmabuf.priv);
        } else if (f->type == SIM_FILE_CONTAINER) {
            free(f->u.container);
        }
        free(f);
    }
    pthread_mutex_unlock(&sim_lock);
}

ssize_t sim_chunked_rw(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                       bool is_write, SimAccessFn access)
{
    uint8_t *p = buf;
    size_t done = 0;

    while (count) {
        size_t n = (count >= 4 && !(pos % 4)) ? 4 :
                   (count >= 2 && !(pos % 2)) ? 2 : 1;
        uint8_t val[4];

        if (is_write) {
            memcpy(val, p, n);
        }
        if (access(dev, val, n, pos, is_write) <= 0) {
            return -EFAULT;
        }
        if (!is_write) {
            memcpy(p, val, n);
        }
        count -= n;
        done += n;
        pos += n;
        p += n;
    }
    return done;
}

/* For tests that preload the simulator: a counter by device and name. */
__attribute__((visibility("default")))
unsigned vfio_sim_counter(const char *uuid, const char *what)
{
    SimDevice *dev = sim_device_by_uuid(uuid);

    return dev ? sim_counter(dev, what) : 0;
}
