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
#include <dirent.h>
#include <limits.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/kvm.h>

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

/* ---- sysfs ------------------------------------------------------------ */

/*
 * What Linux 6.1 lays out in sysfs for an mdev, under the simulator's root
 * (measured on 6.1 with mbochs and mdpy: tests/kernel, case sysfs).  Paths
 * here are below /sys.  Every link is relative, from the link's directory
 * up to the deepest directory it shares with the target's directory, then
 * down, as kernfs_get_target_path makes it: the tree, bind-mounted at
 * /sys, resolves as on a host.
 */

#define SIM_NMODELS (sizeof(models) / sizeof(models[0]))

static char prefixes[4 + 2 * SIM_NMODELS][128];
static int nprefixes;
static bool parent_made[SIM_NMODELS];

static void add_prefix(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void add_prefix(const char *fmt, ...)
{
    va_list ap;
    int n;

    n = snprintf(prefixes[nprefixes], sizeof(prefixes[0]), "/sys/");
    va_start(ap, fmt);
    vsnprintf(prefixes[nprefixes] + n, sizeof(prefixes[0]) - n, fmt, ap);
    va_end(ap);
    nprefixes++;
}

const char *sim_sys_prefix(int i)
{
    return i < nprefixes ? prefixes[i] : NULL;
}

/* @buf: <root>/sys/ and @fmt */
static void sys_vpath(char *buf, size_t len, const char *fmt, va_list ap)
{
    int n = snprintf(buf, len, "%s/sys/", root);

    vsnprintf(buf + n, len - n, fmt, ap);
}

static void mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    char *p;

    snprintf(tmp, sizeof(tmp), "%s", path);
    for (p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
        die("mkdir %s: %s", tmp, strerror(errno));
    }
}

static void sys_mkdir(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void sys_mkdir(const char *fmt, ...)
{
    char path[PATH_MAX];
    va_list ap;

    va_start(ap, fmt);
    sys_vpath(path, sizeof(path), fmt, ap);
    va_end(ap);
    mkdirs(path);
}

static void rmtree(const char *path);

/*
 * Put @tmp in @path's place at once, so that another process reading the
 * tree (each one the simulator is loaded in remakes it) never misses it;
 * a directory there (an older simulator's mdev) goes first.
 */
static void replace(const char *tmp, const char *path)
{
    if (rename(tmp, path) < 0) {
        rmtree(path);
        if (rename(tmp, path) < 0) {
            die("rename %s: %s", path, strerror(errno));
        }
    }
}

/* an attribute file with @contents */
static void sys_file(mode_t mode, const char *contents, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sys_file(mode_t mode, const char *contents, const char *fmt, ...)
{
    char path[PATH_MAX], tmp[PATH_MAX + 32];
    size_t len = strlen(contents);
    va_list ap;
    int fd;

    va_start(ap, fmt);
    sys_vpath(path, sizeof(path), fmt, ap);
    va_end(ap);
    snprintf(tmp, sizeof(tmp), "%s.vfio-sim.%d", path, (int)getpid());
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, contents, len) != (ssize_t)len ||
        fchmod(fd, mode) < 0) {
        die("%s: %s", tmp, strerror(errno));
    }
    close(fd);
    replace(tmp, path);
}

/*
 * The relative path from directory @from to @to, both below /sys: one
 * "../" for each component of @from below the deepest directory that
 * holds both @from and @to's directory, then the rest of @to
 * (kernfs_get_target_path).
 */
static void sys_relpath(const char *from, const char *to, char *out,
                        size_t len)
{
    const char *rest, *p;
    size_t i, common = 0, n = 0;
    int ups = 0;

    for (i = 0; from[i] && from[i] == to[i]; i++) {
        if (from[i] == '/') {
            common = i + 1;
        }
    }
    if (!from[i] && to[i] == '/') {
        /* @from holds @to's directory */
        common = i + 1;
        rest = "";
    } else {
        rest = from + common;
    }
    if (*rest) {
        for (ups = 1, p = rest; *p; p++) {
            ups += *p == '/';
        }
    }
    out[0] = 0;
    while (ups-- > 0 && n < len) {
        n += snprintf(out + n, len - n, "../");
    }
    if (n < len) {
        snprintf(out + n, len - n, "%s", to + common);
    }
}

/* the link @fmt to @to (both below /sys), in place of what was there */
static void sys_link(const char *to, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sys_link(const char *to, const char *fmt, ...)
{
    char link[1024], dir[1024], rel[PATH_MAX], path[PATH_MAX];
    char tmp[PATH_MAX + 32];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(link, sizeof(link), fmt, ap);
    va_end(ap);
    snprintf(dir, sizeof(dir), "%s", link);
    *strrchr(dir, '/') = 0;
    sys_relpath(dir, to, rel, sizeof(rel));
    snprintf(path, sizeof(path), "%s/sys/%s", root, link);
    snprintf(tmp, sizeof(tmp), "%s.vfio-sim.%d", path, (int)getpid());
    unlink(tmp);
    if (symlink(rel, tmp) < 0) {
        die("symlink %s: %s", tmp, strerror(errno));
    }
    replace(tmp, path);
}

static void rmtree(const char *path)
{
    char sub[PATH_MAX];
    struct dirent *e;
    struct stat st;
    DIR *dir;

    if (lstat(path, &st) < 0) {
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    dir = opendir(path);
    while (dir && (e = readdir(dir))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            rmtree(sub);
        }
    }
    if (dir) {
        closedir(dir);
    }
    rmdir(path);
}

static void sys_remove(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void sys_remove(const char *fmt, ...)
{
    char path[PATH_MAX];
    va_list ap;

    va_start(ap, fmt);
    sys_vpath(path, sizeof(path), fmt, ap);
    va_end(ap);
    rmtree(path);
}

/*
 * dpm_sysfs_add (drivers/base/power/sysfs.c): a device's power directory,
 * here of a device without runtime PM, the values measured on Debian's
 * 6.1; left out: autosuspend_delay_ms, whose read fails with EIO there.
 */
static void sys_power(const char *dir)
{
    static const struct {
        const char *name, *value;
        mode_t mode;
    } attrs[] = {
        { "async", "disabled\n", 0644 },
        { "control", "auto\n", 0644 },
        { "runtime_active_kids", "0\n", 0444 },
        { "runtime_active_time", "0\n", 0444 },
        { "runtime_enabled", "disabled\n", 0444 },
        { "runtime_status", "unsupported\n", 0444 },
        { "runtime_suspended_time", "0\n", 0444 },
        { "runtime_usage", "0\n", 0444 },
    };
    size_t i;

    sys_mkdir("%s/power", dir);
    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        sys_file(attrs[i].mode, attrs[i].value, "%s/power/%s", dir,
                 attrs[i].name);
    }
}

/*
 * bus_register(&mdev_bus_type) (mdev_init): /sys/bus/mdev; and the paths
 * the simulator serves from its tree whatever the devices.
 */
static void sys_bus(void)
{
    add_prefix("bus/mdev");
    add_prefix("kernel/iommu_groups");
    add_prefix("class/mdev_bus");
    add_prefix("class/vfio-dev");
    sys_mkdir("bus/mdev/devices");
    sys_mkdir("bus/mdev/drivers");
    sys_mkdir("kernel/iommu_groups");
    sys_mkdir("class/mdev_bus");
    sys_mkdir("class/vfio-dev");
    sys_file(0644, "1\n", "bus/mdev/drivers_autoprobe");
    sys_file(0200, "", "bus/mdev/drivers_probe");
    sys_file(0200, "", "bus/mdev/uevent");
}

static int model_index(const SimModelOps *ops)
{
    size_t i;

    for (i = 0; i < SIM_NMODELS && models[i] != ops; i++) {
        continue;
    }
    return i;
}

static const char *parent_name(const SimMdevParent *p)
{
    return strrchr(p->path, '/') + 1;
}

/* @ops's devices that exist now */
static int model_devices(const SimModelOps *ops, SimDevice **devs)
{
    int i, n = 0;

    for (i = 0; i < ndevices; i++) {
        if (devices[i].ops == ops && !devices[i].removed) {
            devs[n++] = &devices[i];
        }
    }
    return n;
}

/* <parent>/mdev_supported_types/<driver string>-<sysfs_name> */
static void type_dir(const SimModelOps *ops, const SimMdevType *t,
                     char *buf, size_t len)
{
    snprintf(buf, len, "%s/mdev_supported_types/%s-%s", ops->parent->path,
             ops->parent->driver_string, t->sysfs_name);
}

/*
 * The types' attributes (mdev_type_add, mdev_types_core_attrs: create,
 * device_api, name, available_instances, description when the driver has
 * show_description) with what they show now: available_instances changes
 * with each mdev made or removed.
 */
static void sys_types(const SimModelOps *ops)
{
    SimDevice *devs[SIM_MAX_DEVICES];
    int n = model_devices(ops, devs), i;
    char dir[PATH_MAX], line[256];
    SimMdevType t;

    for (i = 0; i < ops->parent->ntypes; i++) {
        memset(&t, 0, sizeof(t));
        ops->mdev_type(i, devs, n, &t);
        type_dir(ops, &t, dir, sizeof(dir));
        sys_mkdir("%s/devices", dir);
        sys_file(0200, "", "%s/create", dir);
        /* every modelled driver's mdev_driver.device_api */
        sys_file(0444, VFIO_DEVICE_API_PCI_STRING "\n", "%s/device_api",
                 dir);
        snprintf(line, sizeof(line), "%s\n", t.name);
        sys_file(0444, line, "%s/name", dir);
        snprintf(line, sizeof(line), "%u\n", t.available);
        sys_file(0444, line, "%s/available_instances", dir);
        if (t.description[0]) {
            sys_file(0444, t.description, "%s/description", dir);
        }
    }
}

/*
 * mdev_register_parent: the parent's types (parent_create_sysfs_files) and
 * its /sys/class/mdev_bus link (class_compat_create_link); a class device
 * parent (mbochs, mdpy: device_register in their own class) has what the
 * driver core gives it, a PCI parent only what mdev adds to it.  And
 * mdev_register_driver: the driver's directory on the bus.
 */
static void sys_parent(const SimModelOps *ops)
{
    const SimMdevParent *p = ops->parent;
    char class[128];

    add_prefix("%s", p->path);
    sys_mkdir("%s/mdev_supported_types", p->path);
    sys_link(p->path, "class/mdev_bus/%s", parent_name(p));
    if (p->class_name) {
        add_prefix("class/%s", p->class_name);
        snprintf(class, sizeof(class), "class/%s", p->class_name);
        sys_mkdir("%s", class);
        sys_link(p->path, "%s/%s", class, parent_name(p));
        sys_link(class, "%s/subsystem", p->path);
        sys_file(0644, "", "%s/uevent", p->path);
        sys_power(p->path);
    }
    sys_mkdir("bus/mdev/drivers/%s", p->driver);
    sys_file(0200, "", "bus/mdev/drivers/%s/bind", p->driver);
    sys_file(0200, "", "bus/mdev/drivers/%s/unbind", p->driver);
    sys_file(0200, "", "bus/mdev/drivers/%s/uevent", p->driver);
    sys_types(ops);
}

/*
 * mdev_device_create for @d: device_add makes the device's directory
 * under its parent with subsystem, uevent and power; device_driver_attach
 * the driver links and the driver's attribute group; the driver's probe,
 * in vfio_register_emulated_iommu_dev, an IOMMU group of its own
 * (vfio_noiommu_group_alloc: iommu_group_alloc, iommu_group_set_name,
 * iommu_group_add_device) and vfio-dev/vfio<index> (vfio_init_device,
 * __vfio_register_dev); mdev_create_sysfs_files the type's links.  The
 * bus's link, which device_add makes first, is made last here so that a
 * reader who finds the device finds all of it.
 */
static void make_sysfs(SimDevice *d)
{
    const SimMdevParent *p = d->ops->parent;
    char dir[256], type[PATH_MAX], group[64], vfio[PATH_MAX];
    char line[128];
    SimOpt attrs[8];
    SimMdevType t;
    int i, n, index = d - devices;

    if (!parent_made[model_index(d->ops)]) {
        parent_made[model_index(d->ops)] = true;
        sys_parent(d->ops);
    }
    snprintf(dir, sizeof(dir), "%s/%s", p->path, d->uuid);
    sys_mkdir("%s", dir);
    sys_link("bus/mdev", "%s/subsystem", dir);
    snprintf(line, sizeof(line), "DRIVER=%s\n", p->driver);
    sys_file(0644, line, "%s/uevent", dir);
    sys_power(dir);
    sys_file(0200, "", "%s/remove", dir);     /* mdev_device_groups */

    snprintf(line, sizeof(line), "bus/mdev/drivers/%s", p->driver);
    sys_link(line, "%s/driver", dir);
    sys_link(dir, "%s/%s", line, d->uuid);
    n = d->ops->attrs(d, attrs, sizeof(attrs) / sizeof(attrs[0]));
    sys_mkdir("%s/%s", dir, p->group);
    for (i = 0; i < n; i++) {
        sys_file(0444, attrs[i].value, "%s/%s/%s", dir, p->group,
                 attrs[i].key);
    }

    snprintf(group, sizeof(group), "kernel/iommu_groups/%d", d->group);
    sys_mkdir("%s/devices", group);
    sys_file(0444, "vfio-noiommu\n", "%s/name", group);
    sys_file(0444, "", "%s/reserved_regions", group);
    sys_file(0644, "unknown\n", "%s/type", group);
    sys_link(group, "%s/iommu_group", dir);
    sys_link(dir, "%s/devices/%s", group, d->uuid);

    snprintf(vfio, sizeof(vfio), "%s/vfio-dev/vfio%d", dir, index);
    sys_mkdir("%s", vfio);
    sys_link(dir, "%s/device", vfio);
    sys_link("class/vfio-dev", "%s/subsystem", vfio);
    sys_file(0644, "", "%s/uevent", vfio);
    sys_power(vfio);
    sys_link(vfio, "class/vfio-dev/vfio%d", index);

    memset(&t, 0, sizeof(t));
    d->ops->mdev_type(d->ops->type_of(d), NULL, 0, &t);
    type_dir(d->ops, &t, type, sizeof(type));
    sys_link(dir, "%s/devices/%s", type, d->uuid);
    sys_link(type, "%s/mdev_type", dir);

    sys_link(dir, "bus/mdev/devices/%s", d->uuid);
    sys_types(d->ops);
}

/*
 * mdev_device_remove_common for @d, what make_sysfs made undone: the
 * bus's link first; the IOMMU group goes with its last device
 * (vfio_device_remove_group); the types count again.
 */
static void remove_sysfs(SimDevice *d)
{
    const SimMdevParent *p = d->ops->parent;
    SimMdevType t;
    char type[PATH_MAX];
    int i;

    sys_remove("bus/mdev/devices/%s", d->uuid);
    memset(&t, 0, sizeof(t));
    d->ops->mdev_type(d->ops->type_of(d), NULL, 0, &t);
    type_dir(d->ops, &t, type, sizeof(type));
    sys_remove("%s/devices/%s", type, d->uuid);
    sys_remove("bus/mdev/drivers/%s/%s", p->driver, d->uuid);
    sys_remove("class/vfio-dev/vfio%d", (int)(d - devices));
    sys_remove("kernel/iommu_groups/%d/devices/%s", d->group, d->uuid);
    for (i = 0; i < ndevices; i++) {
        if (!devices[i].removed && devices[i].group == d->group) {
            break;
        }
    }
    if (i == ndevices) {
        sys_remove("kernel/iommu_groups/%d", d->group);
    }
    sys_remove("%s/%s", p->path, d->uuid);
    sys_types(d->ops);
}

/* ---- configuration ---------------------------------------------------- */

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
    pthread_mutex_init(&d->device_lock, NULL);
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
        if (!strcmp(d->opts[i].key, "stall") &&
            sim_stall_add(d, d->opts[i].value, err, sizeof(err)) < 0) {
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
    sys_bus();
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
    d->removed = true;
    remove_sysfs(d);
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

/* the driver's own lock around a device call (SimModelOps.device_lock) */
static void device_lock(SimDevice *dev)
{
    if (dev->ops->device_lock) {
        pthread_mutex_lock(&dev->device_lock);
    }
}

static void device_unlock(SimDevice *dev)
{
    if (dev->ops->device_lock) {
        pthread_mutex_unlock(&dev->device_lock);
    }
}

static long file_ioctl(SimFile *f, unsigned long req, void *arg)
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

/*
 * A device ioctl: under the driver's own lock, its stalls and waits
 * (outside the simulator's lock), then the model.
 */
long sim_file_ioctl(SimFile *f, unsigned long req, void *arg)
{
    SimDevice *dev;
    long ret;

    if (f->type != SIM_FILE_DEVICE) {
        return file_ioctl(f, req, arg);
    }
    dev = f->u.dev;
    device_lock(dev);
    sim_stall_ioctl(dev, req, arg);
    ret = dev->ops->wait ? dev->ops->wait(dev, req, arg) : 0;
    if (!ret) {
        ret = file_ioctl(f, req, arg);
    }
    device_unlock(dev);
    return ret;
}

ssize_t sim_file_rw(SimFile *f, void *buf, size_t count, uint64_t pos,
                    bool is_write)
{
    ssize_t ret;

    if (f->type != SIM_FILE_DEVICE) {
        return -EINVAL;  /* container and group have no read/write */
    }
    device_lock(f->u.dev);
    sim_stall_rw(f->u.dev, pos);
    pthread_mutex_lock(&sim_lock);
    ret = f->u.dev->ops->rw(f->u.dev, buf, count, pos, is_write);
    pthread_mutex_unlock(&sim_lock);
    device_unlock(f->u.dev);
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

/* the file's last reference (fd or call) goes: it is released.  Locked. */
static void sim_file_unref(SimFile *f)
{
    if (--f->refs > 0) {
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

/*
 * An fd's call holds a reference to its file until it returns (fdget and
 * fdput in the kernel's ioctl, read, write and mmap paths): a close from
 * another thread meanwhile frees the fd, and the file is released when
 * the call returns.  NULL if @fd is not ours.
 */
SimFile *sim_file_get(int fd)
{
    SimFile *f;

    pthread_mutex_lock(&sim_lock);
    f = sim_file(fd);
    if (f) {
        f->refs++;
    }
    pthread_mutex_unlock(&sim_lock);
    return f;
}

void sim_file_put(SimFile *f)
{
    if (f) {
        pthread_mutex_lock(&sim_lock);
        sim_file_unref(f);
        pthread_mutex_unlock(&sim_lock);
    }
}

/*
 * The groups KVM's VFIO device holds (kvm_vfio_set_file: a reference on
 * each file added, dropped when it is deleted).  One VM a process.
 */
#define SIM_KVM_MAX_FILES 64
static SimFile *kvm_files[SIM_KVM_MAX_FILES];

bool sim_kvm_vfio_attr(const void *attr, long *ret)
{
    const struct kvm_device_attr *a = attr;
    SimFile *f;
    int32_t fd;
    int i, slot = -1;

    if (a->group != KVM_DEV_VFIO_GROUP ||
        (a->attr != KVM_DEV_VFIO_GROUP_ADD &&
         a->attr != KVM_DEV_VFIO_GROUP_DEL)) {
        return false;
    }
    memcpy(&fd, (const void *)(uintptr_t)a->addr, sizeof(fd));
    pthread_mutex_lock(&sim_lock);
    f = sim_file(fd);
    if (!f) {
        pthread_mutex_unlock(&sim_lock);
        return false;
    }
    for (i = 0; i < SIM_KVM_MAX_FILES; i++) {
        if (kvm_files[i] == f) {
            break;
        }
        if (!kvm_files[i] && slot < 0) {
            slot = i;
        }
    }
    if (a->attr == KVM_DEV_VFIO_GROUP_ADD) {
        /* 6.1's vfio_file_is_valid(): a group file, nothing else */
        if (f->type != SIM_FILE_GROUP) {
            *ret = -EINVAL;
        } else if (i < SIM_KVM_MAX_FILES) {
            *ret = -EEXIST;
        } else if (slot < 0) {
            *ret = -ENOMEM;
        } else {
            f->refs++;
            kvm_files[slot] = f;
            *ret = 0;
        }
    } else if (i < SIM_KVM_MAX_FILES) {
        kvm_files[i] = NULL;
        sim_file_unref(f);
        *ret = 0;
    } else {
        *ret = -ENOENT;
    }
    pthread_mutex_unlock(&sim_lock);
    sim_log("kvm", "KVM_DEV_VFIO_GROUP_%s fd %d: %ld",
            a->attr == KVM_DEV_VFIO_GROUP_ADD ? "ADD" : "DEL", fd, *ret);
    return true;
}

void sim_file_close(int fd)
{
    SimFile *f;

    pthread_mutex_lock(&sim_lock);
    f = sim_file(fd);
    if (f) {
        files[fd] = NULL;
        sim_file_unref(f);
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
