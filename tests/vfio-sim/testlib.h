/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the vfio-sim C tests share: TAP output, the raw ioctl call, the
 * simulator's test hooks and a device opened the way a VMM opens it.  The
 * tests run with the simulator preloaded and write its configuration
 * before their first VFIO call.
 */
#ifndef VFIO_SIM_TESTLIB_H
#define VFIO_SIM_TESTLIB_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#define PAGE 4096
#define PLANE_PRIMARY 1
#define PLANE_CURSOR 2

static int ntest, nfail;

static inline void ok(int cond, const char *name)
{
    ntest++;
    if (!cond) {
        nfail++;
    }
    printf("%sok %d - %s\n", cond ? "" : "not ", ntest, name);
    fflush(stdout);
}

static inline int done_testing(void)
{
    printf("1..%d\n", ntest);
    return nfail ? 1 : 0;
}

/* ioctl's result as -errno, or its value */
/* a monotonic clock, in seconds: how long a call took */
static inline double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline long call(int fd, unsigned long req, void *arg)
{
    long r = ioctl(fd, req, arg);

    return r < 0 ? -errno : r;
}

static inline unsigned counter(const char *uuid, const char *what)
{
    unsigned (*fn)(const char *, const char *) =
        (unsigned (*)(const char *, const char *))dlsym(RTLD_DEFAULT,
                                                       "vfio_sim_counter");

    return fn ? fn(uuid, what) : ~0u;
}

/* the last reply of sim_ctl() */
static char sim_reply[4096] __attribute__((unused));

/* one control command, in process (vfio_sim_control); 0 or -errno */
__attribute__((format(printf, 1, 2)))
static inline int sim_ctl(const char *fmt, ...)
{
    int (*fn)(const char *, const void *, size_t, char *, size_t) =
        dlsym(RTLD_DEFAULT, "vfio_sim_control");
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    return fn ? fn(line, NULL, 0, sim_reply, sizeof(sim_reply)) : -ENOSYS;
}

static char sim_test_dir[] = "/tmp/vfio-sim-test.XXXXXX";

/* remove @path and, if it is a directory, all under it */
static inline void sim_remove_tree(const char *path)
{
    char sub[PATH_MAX];
    struct dirent *e;
    struct stat st;
    DIR *d;

    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
        (d = opendir(path))) {
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                snprintf(sub, sizeof(sub), "%s/%s", path,
                         e->d_name) < (int)sizeof(sub)) {
                sim_remove_tree(sub);
            }
        }
        closedir(d);
    }
    remove(path);
}

/* the test's directory goes when it exits, whatever it left there */
static inline void sim_remove_dir(void)
{
    sim_remove_tree(sim_test_dir);
}

/*
 * Write @devices as the simulator's configuration in a new directory and
 * point the simulator at it; the control socket is <dir>/control, its
 * path copied to @control if not NULL.  The directory is removed at exit.
 */
static inline void sim_setup(const char *devices, char *control, size_t len)
{
    char *dir = sim_test_dir;
    char path[PATH_MAX];
    FILE *f;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(sim_remove_dir);
    snprintf(path, sizeof(path), "%s/config", dir);
    f = fopen(path, "w");
    fputs(devices, f);
    fclose(f);
    setenv("VFIO_SIM_CONFIG", path, 1);
    snprintf(path, sizeof(path), "%s/root", dir);
    setenv("VFIO_SIM_DIR", path, 1);
    snprintf(path, sizeof(path), "%s/control", dir);
    setenv("VFIO_SIM_CONTROL", path, 1);
    if (control) {
        snprintf(control, len, "%s", path);
    }
    setenv("VFIO_SIM_KERNEL_BUGS", "count", 1);
}

/* the README's "xy" test pattern, 0xAARRGGBB (computed here, not by the sim) */
static inline uint32_t xy(uint32_t x, uint32_t y)
{
    return 0xff000000u | (x & 0xff) << 16 | (y & 0xff) << 8 |
           (((x >> 8) << 4 | (y >> 8)) & 0xff);
}

typedef struct Dev {
    int container, group, fd;
} Dev;

static inline Dev open_dev(int group, const char *uuid)
{
    char path[32];
    Dev d;

    d.container = open("/dev/vfio/vfio", O_RDWR);
    snprintf(path, sizeof(path), "/dev/vfio/%d", group);
    d.group = open(path, O_RDWR);
    ioctl(d.group, VFIO_GROUP_SET_CONTAINER, &d.container);
    ioctl(d.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
    d.fd = ioctl(d.group, VFIO_GROUP_GET_DEVICE_FD, uuid);
    return d;
}

static inline void close_dev(Dev *d)
{
    close(d->fd);
    close(d->group);
    close(d->container);
}

/* a plane query as a VMM makes it, the struct pre-filled with 0xa5 */
static inline long query_plane(int fd, uint32_t flags, int type,
                               struct vfio_device_gfx_plane_info *p)
{
    memset(p, 0xa5, sizeof(*p));
    p->argsz = sizeof(*p);
    p->flags = flags;
    p->drm_plane_type = type;
    return call(fd, VFIO_DEVICE_QUERY_GFX_PLANE, p);
}

/* the contents of file @fmt, "" if it cannot be read */
__attribute__((format(printf, 1, 2)))
static inline const char *sys_read(const char *fmt, ...)
{
    static char buf[512];
    char path[PATH_MAX];
    va_list ap;
    ssize_t n;
    int fd;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    fd = open(path, O_RDONLY);
    n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0) {
        close(fd);
    }
    return buf;
}

/* where link @fmt points, "" if it is not a link */
__attribute__((format(printf, 1, 2)))
static inline const char *sys_readlink(const char *fmt, ...)
{
    static char buf[PATH_MAX];
    char path[PATH_MAX];
    va_list ap;
    ssize_t n;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    n = readlink(path, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* realpath of @fmt is @want */
__attribute__((format(printf, 2, 3)))
static inline bool sys_resolves(const char *want, const char *fmt, ...)
{
    char path[PATH_MAX], *rp;
    va_list ap;
    bool same;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    rp = realpath(path, NULL);
    same = rp && !strcmp(rp, want);
    free(rp);
    return same;
}

/* what an mdev's sysfs must show (tests/vfio-sim/README.md, "Sysfs") */
typedef struct SysfsWant {
    const char *model, *uuid;
    int group;
    const char *parent;          /* the parent device, below /sys */
    const char *type;            /* its type's directory name */
    const char *driver;          /* the mdev driver's name */
    const char *attr, *value;    /* a file of the driver's group */
    const char *name, *description, *available;
} SysfsWant;

/*
 * The mdev's sysfs through the paths a VMM or libvirt uses, as Linux 6.1
 * lays it out: the device under its parent, the bus's relative link to
 * it, its type, group, driver and class links.
 */
static inline void check_sysfs(const SysfsWant *w)
{
    char dev[PATH_MAX], type[PATH_MAX], want[PATH_MAX], group[64];
    const char *links[] = { "iommu_group", "subsystem", "mdev_type",
                            "driver" };
    bool relative = true;
    size_t i;

    snprintf(dev, sizeof(dev), "/sys/%s/%s", w->parent, w->uuid);
    snprintf(type, sizeof(type), "/sys/%s/mdev_supported_types/%s",
             w->parent, w->type);
    snprintf(group, sizeof(group), "/sys/kernel/iommu_groups/%d", w->group);
    printf("# sysfs %s: %s\n", w->model, dev);
    snprintf(want, sizeof(want), "../../../%s/%s", w->parent, w->uuid);
    ok(!strcmp(sys_readlink("/sys/bus/mdev/devices/%s", w->uuid), want) &&
       sys_resolves(dev, "/sys/bus/mdev/devices/%s", w->uuid),
       "sysfs: the bus's relative link to the device under its parent");
    for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        const char *to = sys_readlink("%s/%s", dev, links[i]);

        relative = relative && to[0] && to[0] != '/';
    }
    ok(relative, "sysfs: the device's links are relative");
    ok(sys_resolves(group, "/sys/bus/mdev/devices/%s/iommu_group", w->uuid) &&
       sys_resolves(dev, "%s/devices/%s", group, w->uuid) &&
       !strcmp(sys_read("%s/name", group), "vfio-noiommu\n"),
       "sysfs: iommu_group, an emulated group holding the device");
    ok(sys_resolves("/sys/bus/mdev", "%s/subsystem", dev),
       "sysfs: subsystem is the mdev bus");
    snprintf(want, sizeof(want), "../mdev_supported_types/%s", w->type);
    ok(!strcmp(sys_readlink("%s/mdev_type", dev), want) &&
       sys_resolves(type, "/sys/bus/mdev/devices/%s/mdev_type", w->uuid),
       "sysfs: mdev_type links to the parent's type");
    ok(!strcmp(sys_read("/sys/bus/mdev/devices/%s/mdev_type/device_api",
                        w->uuid), "vfio-pci\n"),
       "sysfs: the type's device_api is vfio-pci");
    ok(!strcmp(sys_read("%s/name", type), w->name) &&
       !strcmp(sys_read("%s/description", type), w->description) &&
       !strcmp(sys_read("%s/available_instances", type), w->available),
       "sysfs: the type's name, description and available_instances");
    ok(sys_resolves(dev, "%s/devices/%s", type, w->uuid) &&
       access(dev, F_OK) == 0 && access(type, F_OK) == 0,
       "sysfs: the type's devices/<uuid> links back");
    snprintf(want, sizeof(want), "/sys/%s", w->parent);
    ok(sys_resolves(want, "/sys/class/mdev_bus/%s",
                    strrchr(w->parent, '/') + 1),
       "sysfs: /sys/class/mdev_bus/<parent> links to the parent");
    snprintf(want, sizeof(want), "/sys/bus/mdev/drivers/%s", w->driver);
    ok(sys_resolves(want, "%s/driver", dev) &&
       sys_resolves(dev, "%s/%s", want, w->uuid),
       "sysfs: bound to the vendor's mdev driver");
    snprintf(want, sizeof(want), "DRIVER=%s\n", w->driver);
    ok(!strcmp(sys_read("%s/uevent", dev), want) &&
       !strcmp(sys_read("%s/%s", dev, w->attr), w->value),
       "sysfs: uevent and the driver's attribute");
}

#endif
