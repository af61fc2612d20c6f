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
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
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

/*
 * Write @devices as the simulator's configuration in a new directory and
 * point the simulator at it; the control socket is <dir>/control, its
 * path copied to @control if not NULL.
 */
static inline void sim_setup(const char *devices, char *control, size_t len)
{
    char dir[] = "/tmp/vfio-sim-test.XXXXXX";
    char path[PATH_MAX];
    FILE *f;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
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

#endif
