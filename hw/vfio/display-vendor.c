/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the vendor layer.  The two ioctls of the display
 * ABI (VFIO_DEVICE_QUERY_GFX_PLANE, VFIO_DEVICE_GET_GFX_DMABUF), made on
 * the device's vendor thread (display-call.c), with their errno
 * handling, a queried plane checked (display-plane.c) before anything
 * uses it, and the fault messages: one per kind of fault until the
 * device recovers.  No console state: the layers above call down
 * into this file, never the other way.
 */
#include "qemu/osdep.h"

#include "qemu/error-report.h"
#include "vfio-display.h"
#include "trace.h"

void vfio_display_vendor_refresh(VFIODisplay *dpy)
{
    vfio_display_caller_refresh(dpy->caller);
}

void vfio_display_vendor_forget(VFIODisplay *dpy)
{
    vfio_display_caller_forget(dpy->caller);
}

/* one VFIO_DEVICE_QUERY_GFX_PLANE, on the vendor thread */
int vfio_display_query(VFIODisplay *dpy, uint32_t flags, uint32_t type,
                       struct vfio_device_gfx_plane_info *info)
{
    VFIODisplayCall call = {
        .kind = VFIO_DISPLAY_CALL_QUERY,
        .flags = flags,
        .type = type,
    };
    int ret = vfio_display_caller_ask(dpy->caller, &call);

    if (ret < 0) {
        trace_vfio_display_query_pending(dpy->vdev->vbasedev.name, type);
        return ret;
    }
    *info = call.info;
    trace_vfio_display_query(dpy->vdev->vbasedev.name, flags, type, call.ret,
                             info->drm_format, info->width, info->height);
    return call.ret;
}

/*
 * A vendor fault seen at refresh: one message per kind of fault until the
 * device recovers from it, never one per refresh.
 */
void vfio_display_fault(VFIODisplay *dpy, VFIODisplayFault fault,
                        const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    dpy->stats.faults++;
    trace_vfio_display_fault(dpy->vdev->vbasedev.name, fault, msg);
    if (!dpy->faulted[fault]) {
        dpy->faulted[fault] = true;
        warn_report("vfio %s: display: %s", dpy->vdev->vbasedev.name, msg);
    }
}

void vfio_display_recovered(VFIODisplay *dpy, VFIODisplayFault fault)
{
    dpy->faulted[fault] = false;
    if (fault == VFIO_DISPLAY_FAULT_QUERY) {
        dpy->query_failures[0] = 0;
    } else if (fault == VFIO_DISPLAY_FAULT_QUERY_CURSOR) {
        dpy->query_failures[1] = 0;
    }
}

/*
 * Fault @kind (a primary plane's) as plane @type has it: each plane has
 * its own, so that a good primary plane does not end a cursor's fault
 * (whose message would then come again at every refresh).
 */
static VFIODisplayFault vfio_display_plane_fault(VFIODisplayFault kind,
                                                 uint32_t type)
{
    return type == VFIO_DISPLAY_PLANE_CURSOR ? kind + 1 : kind;
}

/*
 * A query of plane @type failed.  Reported only when the next one fails
 * too: mbochs fails the first query of every new mode with ENOMEM (its
 * mbochs_query_gfx_plane drops the buffer it just allocated).
 */
static void vfio_display_query_failed(VFIODisplay *dpy, uint32_t type,
                                      int err)
{
    bool cursor = type == VFIO_DISPLAY_PLANE_CURSOR;
    const char *plane = vfio_display_plane_name(type);

    if (++dpy->query_failures[cursor] < VFIO_DISPLAY_QUERY_PATIENCE) {
        trace_vfio_display_query_retry(dpy->vdev->vbasedev.name, plane, err);
        return;
    }
    vfio_display_fault(dpy, vfio_display_plane_fault(VFIO_DISPLAY_FAULT_QUERY,
                                                     type),
                       "query of the %s plane: %s", plane, strerror(-err));
}

const char *vfio_display_plane_name(uint32_t type)
{
    return type == VFIO_DISPLAY_PLANE_CURSOR ? "cursor" : "primary";
}

/*
 * Query plane @type (of the dma-buf or the region kind) and check it:
 * 1 with @plane set, 0 if there is none, -ENODEV if the vendor driver is
 * not ready (not a fault: keep what is shown), other -errno after a
 * fault, reported.  Recovering from a plane fault is the caller's to
 * declare: it may find more wrong with it.
 */
int vfio_display_plane_get(VFIODisplay *dpy, bool dmabuf, uint32_t type,
                           VFIODisplayPlane *plane)
{
    VFIODisplayFault kind = vfio_display_plane_fault(VFIO_DISPLAY_FAULT_PLANE,
                                                     type);
    struct vfio_device_gfx_plane_info info;
    const char *why;
    int ret;

    ret = vfio_display_query(dpy, dmabuf ? VFIO_GFX_PLANE_TYPE_DMABUF :
                             VFIO_GFX_PLANE_TYPE_REGION, type, &info);
    if (ret == -ENODEV || ret == -EINPROGRESS) {
        return ret;             /* not ready, or not answered yet */
    }
    if (ret < 0) {
        vfio_display_query_failed(dpy, type, ret);
        return ret;
    }
    vfio_display_recovered(dpy, vfio_display_plane_fault(
                                    VFIO_DISPLAY_FAULT_QUERY, type));
    if (!info.drm_format || !info.size) {
        return 0;
    }
    if (!vfio_display_plane_check(&info, type, dmabuf, plane, &why)) {
        vfio_display_fault(dpy, kind, "%s plane not shown: %s (format 0x%x "
                           "mod 0x%" PRIx64 " %ux%u stride %u size %u %s %u)",
                           vfio_display_plane_name(type), why,
                           info.drm_format, (uint64_t)info.drm_format_mod,
                           info.width,
                           info.height, info.stride, info.size,
                           dmabuf ? "dma-buf id" : "region",
                           dmabuf ? info.dmabuf_id : info.region_index);
        return -EINVAL;
    }
    return 1;
}

/* GET the dma-buf of @plane and check its size (vfio-display.h) */
int vfio_display_dmabuf_open(VFIODisplay *dpy, uint32_t *type,
                             VFIODisplayPlane *plane, uint64_t *size)
{
    VFIODisplayCall call = {
        .kind = VFIO_DISPLAY_CALL_GET,
        .type = *type,
        .plane = *plane,
    };
    VFIODisplayFault get;
    off_t end;
    int fd;

    if (vfio_display_caller_ask(dpy->caller, &call) < 0) {
        return -EINPROGRESS;
    }
    /* the answer may be an earlier GET's: it is the one to keep */
    *type = call.type;
    *plane = call.plane;
    fd = call.ret;
    get = vfio_display_plane_fault(VFIO_DISPLAY_FAULT_GET, *type);
    if (fd < 0) {
        vfio_display_fault(dpy, get,
                           "GET_GFX_DMABUF of %s plane id %u: %s",
                           vfio_display_plane_name(*type), plane->id,
                           strerror(-fd));
        return fd;
    }
    vfio_display_recovered(dpy, get);
    end = lseek(fd, 0, SEEK_END);
    trace_vfio_display_dmabuf_get(dpy->vdev->vbasedev.name, plane->id, fd,
                                  end);
    if (end < 0 || end < plane->min_size) {
        vfio_display_fault(dpy, vfio_display_plane_fault(
                                    VFIO_DISPLAY_FAULT_DMABUF_SIZE, *type),
                           "%s plane id %u: %ux%u stride %u needs %" PRIu64
                           " bytes, but the dma-buf has %" PRId64,
                           vfio_display_plane_name(*type), plane->id,
                           plane->width, plane->height, plane->stride,
                           plane->min_size, (int64_t)end);
        close(fd);
        return -EMSGSIZE;
    }
    *size = end;
    return fd;
}

/* may a fetched dma-buf show @plane (vfio-display.h)? */
bool vfio_display_dmabuf_check(VFIODisplay *dpy, uint32_t type,
                               const VFIODisplayPlane *plane,
                               const VFIODisplayPlane *fetched,
                               uint64_t limit)
{
    VFIODisplayFault kind = vfio_display_plane_fault(VFIO_DISPLAY_FAULT_PLANE,
                                                     type);
    VFIODisplayFault size = vfio_display_plane_fault(
                                VFIO_DISPLAY_FAULT_DMABUF_SIZE, type);

    if (!vfio_display_plane_same(fetched, plane)) {
        vfio_display_fault(dpy, kind, "%s plane: dma-buf id %u changed its "
                           "layout while its fd is open",
                           vfio_display_plane_name(type), plane->id);
        return false;
    }
    if (!vfio_display_plane_fits(plane, limit)) {
        vfio_display_fault(dpy, size, "%s plane id %u: size %" PRIu64
                           " but the dma-buf has %" PRIu64 " bytes",
                           vfio_display_plane_name(type), plane->id,
                           plane->size, limit);
        return false;
    }
    vfio_display_recovered(dpy, size);
    vfio_display_recovered(dpy, kind);
    return true;
}
