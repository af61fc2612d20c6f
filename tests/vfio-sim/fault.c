/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim faults: errors and hostile plane fields injected in front of a
 * model's QUERY_GFX_PLANE and GET_GFX_DMABUF, from the configuration file
 * (fault=..., hostile=...) or the control socket.  These are not kernel
 * behaviour: they stand for what a buggy or malicious vendor driver could
 * return through the same uapi.  Grammar (README):
 *   fault:   <probe|query|get>[/<primary|cursor>]:<ERRNO>[:<count>]
 *   hostile: <primary|cursor>:<field>=<value>[:<count>]
 * A count of 0 or none means every time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum { OP_PROBE, OP_QUERY, OP_GET };

typedef struct SimFault {
    bool hostile;
    int op;
    uint32_t plane;              /* 0: any plane */
    int err;
    size_t field_off, field_size;
    uint64_t value;
    int count;                   /* left; -1: always */
    struct SimFault *next;
} SimFault;

struct SimFaults {
    SimFault *list;
};

static const struct {
    const char *name;
    int err;
} errnos[] = {
    { "ENODEV", ENODEV }, { "EINVAL", EINVAL }, { "EIO", EIO },
    { "ENOMEM", ENOMEM }, { "EINTR", EINTR }, { "EFAULT", EFAULT },
    { "EAGAIN", EAGAIN }, { "ENOENT", ENOENT }, { "EBUSY", EBUSY },
    { "ENOSPC", ENOSPC }, { "EPERM", EPERM }, { "ENOTTY", ENOTTY },
};

#define FIELD(f) { #f, offsetof(struct vfio_device_gfx_plane_info, f), \
                   sizeof(((struct vfio_device_gfx_plane_info *)0)->f) }
static const struct {
    const char *name;
    size_t off, size;
} fields[] = {
    FIELD(drm_format), FIELD(drm_format_mod), FIELD(width), FIELD(height),
    FIELD(stride), FIELD(size), FIELD(x_pos), FIELD(y_pos), FIELD(x_hot),
    FIELD(y_hot), FIELD(region_index),
};

static bool parse_plane(const char *s, uint32_t *plane)
{
    if (!strcmp(s, "primary")) {
        *plane = DRM_PLANE_TYPE_PRIMARY;
    } else if (!strcmp(s, "cursor")) {
        *plane = DRM_PLANE_TYPE_CURSOR;
    } else {
        return false;
    }
    return true;
}

static bool parse_count(const char *s, int *count)
{
    char *end;
    long n;

    if (!s) {
        *count = -1;
        return true;
    }
    n = strtol(s, &end, 10);
    if (*end || n < 0 || n > 1000000) {
        return false;
    }
    *count = n ? n : -1;
    return true;
}

static bool parse_errno(const char *s, int *err)
{
    size_t i;
    char *end;

    for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
        if (!strcmp(errnos[i].name, s)) {
            *err = errnos[i].err;
            return true;
        }
    }
    *err = strtol(s, &end, 10);
    return *s && !*end && *err > 0 && *err < 4096;
}

static bool parse_fault(char *spec, SimFault *f)
{
    char *save = NULL, *op = strtok_r(spec, ":", &save);
    char *err = strtok_r(NULL, ":", &save);
    char *count = strtok_r(NULL, ":", &save), *plane;

    if (!op || !err || strtok_r(NULL, ":", &save)) {
        return false;
    }
    plane = strchr(op, '/');
    if (plane) {
        *plane++ = 0;
        if (!parse_plane(plane, &f->plane)) {
            return false;
        }
    }
    if (!strcmp(op, "probe")) {
        f->op = OP_PROBE;
    } else if (!strcmp(op, "query")) {
        f->op = OP_QUERY;
    } else if (!strcmp(op, "get")) {
        f->op = OP_GET;
        if (plane) {
            return false;            /* GET names an id, not a plane */
        }
    } else {
        return false;
    }
    return parse_errno(err, &f->err) && parse_count(count, &f->count);
}

static bool parse_hostile(char *spec, SimFault *f)
{
    char *save = NULL, *plane = strtok_r(spec, ":", &save);
    char *field = strtok_r(NULL, ":", &save);
    char *count = strtok_r(NULL, ":", &save), *value, *end;
    size_t i;

    if (!plane || !field || strtok_r(NULL, ":", &save) ||
        !parse_plane(plane, &f->plane)) {
        return false;
    }
    value = strchr(field, '=');
    if (!value) {
        return false;
    }
    *value++ = 0;
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!strcmp(fields[i].name, field)) {
            f->field_off = fields[i].off;
            f->field_size = fields[i].size;
        }
    }
    f->value = strtoull(value, &end, 0);
    f->hostile = true;
    f->op = OP_QUERY;
    return f->field_size && *value && !*end && parse_count(count, &f->count);
}

int sim_fault_add(SimDevice *dev, const char *kind, const char *spec,
                  char *err, size_t errlen)
{
    SimFault *f = calloc(1, sizeof(*f));
    char *copy = strdup(spec);
    bool ok;

    ok = !strcmp(kind, "fault") ? parse_fault(copy, f) :
         !strcmp(kind, "hostile") ? parse_hostile(copy, f) : false;
    free(copy);
    if (!ok) {
        snprintf(err, errlen, "bad %s '%s'", kind, spec);
        free(f);
        return -EINVAL;
    }
    if (!dev->faults) {
        dev->faults = calloc(1, sizeof(*dev->faults));
    }
    /* appended: faults fire in the order they were given */
    {
        SimFault **pp = &dev->faults->list;

        while (*pp) {
            pp = &(*pp)->next;
        }
        *pp = f;
    }
    return 0;
}

void sim_fault_clear(SimDevice *dev)
{
    SimFault *f, *next;

    if (!dev->faults) {
        return;
    }
    for (f = dev->faults->list; f; f = next) {
        next = f->next;
        free(f);
    }
    dev->faults->list = NULL;
}

static int plane_op(unsigned long req, void *arg, uint32_t *plane)
{
    struct vfio_device_gfx_plane_info *p = arg;

    if (req == VFIO_DEVICE_GET_GFX_DMABUF) {
        *plane = 0;
        return OP_GET;
    }
    if (req != VFIO_DEVICE_QUERY_GFX_PLANE) {
        return -1;
    }
    *plane = p->drm_plane_type;
    return (p->flags & VFIO_GFX_PLANE_TYPE_PROBE) ? OP_PROBE : OP_QUERY;
}

/*
 * Call @fn for each fault of @hostile kind matching the call, the first
 * only unless @all; each use counts against the fault's count.
 */
static void each_fault(SimDevice *dev, bool hostile, int op, uint32_t plane,
                       bool all, void (*fn)(SimFault *f, void *opaque),
                       void *opaque)
{
    SimFault **pp, *f;

    if (!dev->faults) {
        return;
    }
    for (pp = &dev->faults->list; (f = *pp);) {
        if (f->hostile == hostile && f->op == op &&
            (!f->plane || f->plane == plane)) {
            fn(f, opaque);
            if (f->count > 0 && !--f->count) {
                *pp = f->next;
                free(f);
            } else {
                pp = &f->next;
            }
            if (!all) {
                return;
            }
        } else {
            pp = &f->next;
        }
    }
}

static void take_errno(SimFault *f, void *opaque)
{
    *(int *)opaque = f->err;
}

long sim_fault_before(SimDevice *dev, unsigned long req, void *arg)
{
    struct vfio_device_gfx_plane_info *p = arg;
    uint32_t plane;
    int op = plane_op(req, arg, &plane);
    int err = 0;

    if (op < 0) {
        return 0;
    }
    each_fault(dev, false, op, plane, false, take_errno, &err);
    if (!err) {
        return 0;
    }
    if (op == OP_QUERY && err == ENODEV) {
        /* "not initialised yet": every out-field zeroed */
        memset(&p->drm_format, 0, sizeof(*p) -
               offsetof(struct vfio_device_gfx_plane_info, drm_format));
    }
    sim_count(dev, "faults-injected");
    return -err;
}

typedef struct Overwrite {
    void *plane_info;
    int n;
} Overwrite;

static void overwrite(SimFault *f, void *opaque)
{
    Overwrite *o = opaque;
    uint32_t v32 = f->value;

    memcpy((uint8_t *)o->plane_info + f->field_off,
           f->field_size == 4 ? (void *)&v32 : (void *)&f->value,
           f->field_size);
    o->n++;
}

void sim_fault_after(SimDevice *dev, unsigned long req, void *arg)
{
    Overwrite o = { arg, 0 };
    uint32_t plane;

    if (plane_op(req, arg, &plane) != OP_QUERY) {
        return;
    }
    each_fault(dev, true, OP_QUERY, plane, true, overwrite, &o);
    if (o.n) {
        sim_count(dev, "hostile-injected");
    }
}
