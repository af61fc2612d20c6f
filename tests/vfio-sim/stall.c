/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim stalls: slow and hung vendor calls.  A call of the display ABI
 * (probe, plane query, GET_GFX_DMABUF) or a read/write of a device region
 * waits before the model answers, as a vendor waiting on its own manager
 * (NVIDIA's nvidia-vgpu-mgr) or lock (GVT-g's vgpu lock) does.  The wait
 * holds none of the simulator's locks: other calls, from other threads,
 * go on meanwhile, as they do in the kernel.  Grammar (README):
 *   stall: <probe|query|get|rw>[/<primary|cursor|N>]:<MS|hang>[:<count>]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

enum { CALL_PROBE, CALL_QUERY, CALL_GET, CALL_RW };

/* a region index no device has: rw of any region */
#define ANY_REGION UINT32_MAX

typedef struct SimStall {
    int call;
    uint32_t which;              /* plane (0: any), or region index */
    long ms;                     /* -1: until released */
    int count;                   /* left; -1: always */
    struct SimStall *next;
} SimStall;

/* per device: the stalls given, and hung calls' release generation */
struct SimStalls {
    SimStall *list;
    unsigned release_gen;
    unsigned hung;               /* calls waiting for a release now */
};

/* hung calls wait on this, never under the simulator's lock */
static pthread_mutex_t hang_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hang_cond = PTHREAD_COND_INITIALIZER;

/* made once under the lock, never freed: a hung call still uses it */
static SimStalls *stalls_of(SimDevice *dev, bool make)
{
    if (!dev->stalls && make) {
        dev->stalls = calloc(1, sizeof(*dev->stalls));
    }
    return dev->stalls;
}

static bool parse_call(char *s, SimStall *st)
{
    char *which = strchr(s, '/'), *end;
    static const char *const names[] = { "probe", "query", "get", "rw" };
    size_t i;

    if (which) {
        *which++ = 0;
    }
    st->call = -1;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(s, names[i])) {
            st->call = i;
        }
    }
    st->which = st->call == CALL_RW ? ANY_REGION : 0;
    if (st->call < 0 || !which) {
        return st->call >= 0;
    }
    if (st->call == CALL_RW) {
        st->which = strtoul(which, &end, 10);
        return *which && !*end && st->which < 64;
    }
    if (st->call == CALL_GET) {
        return false;                /* GET names an id, not a plane */
    }
    if (!strcmp(which, "primary")) {
        st->which = DRM_PLANE_TYPE_PRIMARY;
    } else if (!strcmp(which, "cursor")) {
        st->which = DRM_PLANE_TYPE_CURSOR;
    } else {
        return false;
    }
    return true;
}

static bool parse_stall(char *spec, SimStall *st)
{
    char *save = NULL, *call = strtok_r(spec, ":", &save);
    char *wait = strtok_r(NULL, ":", &save);
    char *count = strtok_r(NULL, ":", &save), *end;
    long n = 0;

    if (!call || !wait || strtok_r(NULL, ":", &save) ||
        !parse_call(call, st)) {
        return false;
    }
    if (!strcmp(wait, "hang")) {
        st->ms = -1;
    } else {
        st->ms = strtol(wait, &end, 10);
        if (!*wait || *end || st->ms < 0 || st->ms > 600000) {
            return false;
        }
    }
    if (count) {
        n = strtol(count, &end, 10);
        if (!*count || *end || n < 0 || n > 1000000) {
            return false;
        }
    }
    st->count = n ? n : -1;
    return true;
}

/* under the simulator's lock (configuration, control) */
int sim_stall_add(SimDevice *dev, const char *spec, char *err, size_t errlen)
{
    SimStalls *s = stalls_of(dev, true);
    SimStall *st = calloc(1, sizeof(*st)), **pp;
    char *copy = strdup(spec);
    bool ok = s && parse_stall(copy, st);

    free(copy);
    if (!ok) {
        snprintf(err, errlen, "bad stall '%s'", spec);
        free(st);
        return -EINVAL;
    }
    for (pp = &s->list; *pp; pp = &(*pp)->next) {
        /* appended: stalls apply in the order given */
    }
    *pp = st;
    return 0;
}

/*
 * "release": the calls hung now return, and the hang stalls go (timed
 * ones stay); with @all ("clear") every stall goes.  Under the lock.
 */
void sim_stall_release(SimDevice *dev, bool all)
{
    SimStalls *s = stalls_of(dev, false);
    SimStall **pp, *st;

    if (!s) {
        return;
    }
    for (pp = &s->list; (st = *pp);) {
        if (all || st->ms < 0) {
            *pp = st->next;
            free(st);
        } else {
            pp = &st->next;
        }
    }
    pthread_mutex_lock(&hang_lock);
    s->release_gen++;
    pthread_cond_broadcast(&hang_cond);
    pthread_mutex_unlock(&hang_lock);
}

unsigned sim_stall_hung(SimDevice *dev)
{
    SimStalls *s = stalls_of(dev, false);
    unsigned n;

    pthread_mutex_lock(&hang_lock);
    n = s ? s->hung : 0;
    pthread_mutex_unlock(&hang_lock);
    return n;
}

static void wait_released(SimStalls *s)
{
    unsigned gen;

    pthread_mutex_lock(&hang_lock);
    gen = s->release_gen;
    s->hung++;
    while (s->release_gen == gen) {
        pthread_cond_wait(&hang_cond, &hang_lock);
    }
    s->hung--;
    pthread_mutex_unlock(&hang_lock);
}

void sim_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        /* the rest of it */
    }
}

/* the first stall matching, its count used up; -2: none.  Locked. */
static long take_stall(SimDevice *dev, SimStalls *s, int call,
                       uint32_t which)
{
    SimStall **pp, *st;
    long ms;

    for (pp = &s->list; (st = *pp); pp = &st->next) {
        if (st->call != call ||
            (call == CALL_RW ? st->which != ANY_REGION && st->which != which :
             st->which && st->which != which)) {
            continue;
        }
        ms = st->ms;
        if (st->count > 0 && !--st->count) {
            *pp = st->next;
            free(st);
        }
        sim_count(dev, ms < 0 ? "stalls-hung" : "stalls-delayed");
        return ms;
    }
    return -2;
}

static void stall(SimDevice *dev, int call, uint32_t which)
{
    SimStalls *s;
    long ms;

    sim_lock_acquire();
    s = stalls_of(dev, false);
    ms = s && s->list ? take_stall(dev, s, call, which) : -2;
    sim_lock_release();
    if (ms == -1) {
        wait_released(s);
    } else if (ms > 0) {
        sim_sleep_ms(ms);
    }
}

/* before the device ioctl @req reaches the model; never under the lock */
void sim_stall_ioctl(SimDevice *dev, unsigned long req, const void *arg)
{
    const struct vfio_device_gfx_plane_info *p = arg;

    if (req == VFIO_DEVICE_GET_GFX_DMABUF) {
        stall(dev, CALL_GET, 0);
    } else if (req == VFIO_DEVICE_QUERY_GFX_PLANE) {
        stall(dev, (p->flags & VFIO_GFX_PLANE_TYPE_PROBE) ? CALL_PROBE :
              CALL_QUERY, p->drm_plane_type);
    }
}

/*
 * Before a read/write at the device fd's @pos; never under the lock.  The
 * region index is at VFIO_PCI_OFFSET_SHIFT (40); nvidia's offsets carry
 * the vGPU id above it (bits 59:44, NV_VGPU_VFIO_PGOFF_*), and its driver
 * decodes bits 43:40 only.
 */
void sim_stall_rw(SimDevice *dev, uint64_t pos)
{
    uint64_t index = pos >> 40;

    if (dev->ops == &sim_model_nvidia) {
        index &= 0xf;
    }
    stall(dev, CALL_RW, index);
}
