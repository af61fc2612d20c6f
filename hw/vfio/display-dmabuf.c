/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the dma-buf path.  Each refresh queries the primary
 * and cursor planes, finds their dma-buf in a bounded cache by id or
 * fetches it (GET_GFX_DMABUF), and hands it to the GL console, or to the
 * read-back (display-readback.c) where the console cannot take it.
 *
 * Only the vendor's reuse of an id for a new buffer fetches an id again
 * (a refused one, vfio_display_dmabuf_retry), besides eviction: on
 * mbochs a GET of an id whose fd was closed is a kernel bug, which a
 * guest cycling through more than VFIO_DISPLAY_DMABUF_CACHE modes can
 * still reach, as upstream's smaller cache does.
 */
#include "qemu/osdep.h"
#include <sys/ioctl.h>

#include "qemu/error-report.h"
#include "qemu/timer.h"
#include "ui/dmabuf.h"
#include "pci.h"
#include "vfio-display.h"
#include "trace.h"

/* close the fd, release the GL side, forget the id */
static void vfio_display_dmabuf_drop(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    trace_vfio_display_dmabuf_drop(dpy->vdev->vbasedev.name, b->plane.id);
    QTAILQ_REMOVE(&dpy->dmabuf.bufs, b, next);
    dpy->dmabuf.count--;
    vfio_display_readback_drop(dpy, b);
    if (b->buf) {
        vfio_display_gl_release(dpy, b->buf);
        qemu_dmabuf_close(b->buf);
        qemu_dmabuf_free(b->buf);
        dpy->stats.drops++;         /* as imports counts them */
    }
    g_free(b);
}

/* keep the cache bounded: drop the least recently shown buffers */
static void vfio_display_dmabuf_evict(VFIODisplay *dpy)
{
    VFIODisplayBuf *b, *prev;

    QTAILQ_FOREACH_REVERSE_SAFE(b, &dpy->dmabuf.bufs, next, prev) {
        if (dpy->dmabuf.count <= VFIO_DISPLAY_DMABUF_CACHE) {
            return;
        }
        if (b != dpy->dmabuf.primary && b != dpy->dmabuf.cursor) {
            vfio_display_dmabuf_drop(dpy, b);
        }
    }
}

static VFIODisplayBuf *vfio_display_dmabuf_lookup(VFIODisplay *dpy,
                                                  uint32_t id)
{
    VFIODisplayBuf *b;

    QTAILQ_FOREACH(b, &dpy->dmabuf.bufs, next) {
        if (b->plane.id == id) {
            QTAILQ_REMOVE(&dpy->dmabuf.bufs, b, next);
            QTAILQ_INSERT_HEAD(&dpy->dmabuf.bufs, b, next);
            return b;
        }
    }
    return NULL;
}

/*
 * GET the dma-buf of @plane (an id not in the cache) and wrap it.  A
 * dma-buf too small for the plane's geometry is kept as a rejected entry
 * (no fd), fetched again only as vfio_display_dmabuf_retry() says; after
 * a failed GET (a stale id, a device error) nothing is cached.  The
 * vendor's late answer to an earlier GET is cached under its own id:
 * -EINPROGRESS then, as while the vendor has not answered; @plane's GET
 * is asked next.  0 with *@out set, or -errno.
 */
static int vfio_display_dmabuf_fetch(VFIODisplay *dpy,
                                     const VFIODisplayPlane *plane,
                                     uint32_t type, VFIODisplayBuf **out)
{
    VFIODisplayPlane fetched = *plane;
    VFIODisplayBuf *b;
    uint64_t size;
    int fd;

    fd = vfio_display_dmabuf_open(dpy, &type, &fetched, &size);
    if (fd < 0 && fd != -EMSGSIZE) {
        return fd;
    }
    b = g_new0(VFIODisplayBuf, 1);
    b->plane = fetched;
    if (fd < 0) {
        b->rejected_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    } else {
        b->limit = size;
        b->buf = qemu_dmabuf_new(fetched.width, fetched.height,
                                 fetched.stride, 0, 0, fetched.width,
                                 fetched.height, fetched.fourcc,
                                 fetched.modifier, fd, false, false);
        dpy->stats.imports++;
    }
    QTAILQ_INSERT_HEAD(&dpy->dmabuf.bufs, b, next);
    dpy->dmabuf.count++;
    if (fetched.id != plane->id) {
        return -EINPROGRESS;
    }
    *out = b;
    return 0;
}

/*
 * Is a rejected id (no fd open) worth a GET again for @plane?  When its
 * plane changed, and now and then all the same: GVT-g gives an id to a
 * new buffer once every fd of the old one is closed, and the plane it
 * reports may look the same.
 */
static bool vfio_display_dmabuf_retry(VFIODisplayBuf *b,
                                      const VFIODisplayPlane *plane)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

    return !vfio_display_plane_same(&b->plane, plane) ||
           b->plane.size != plane->size ||
           now - b->rejected_ms >= VFIO_DISPLAY_REJECT_RETRY_MS;
}

/*
 * The buffer the device scans out on plane @type now: 0 with *out NULL
 * if there is no plane, 0 with *out set, -EINPROGRESS while the vendor
 * has not answered, or -errno after a fault.
 */
static int vfio_display_dmabuf_plane(VFIODisplay *dpy, uint32_t type,
                                     VFIODisplayBuf **out)
{
    VFIODisplayPlane plane;
    VFIODisplayBuf *b;
    int ret;

    *out = NULL;
    ret = vfio_display_plane_get(dpy, true, type, &plane);
    if (ret <= 0) {
        return ret;
    }
    b = vfio_display_dmabuf_lookup(dpy, plane.id);
    if (b && !b->buf && vfio_display_dmabuf_retry(b, &plane)) {
        /* no fd of it is open: GET it again */
        vfio_display_dmabuf_drop(dpy, b);
        b = NULL;
    }
    if (!b) {
        ret = vfio_display_dmabuf_fetch(dpy, &plane, type, &b);
        if (ret < 0) {
            return ret;
        }
    }
    if (!b->buf ||
        !vfio_display_dmabuf_check(dpy, type, &plane, &b->plane, b->limit)) {
        return -EINVAL;
    }
    b->plane.x = plane.x;
    b->plane.y = plane.y;
    b->plane.hot_x = plane.hot_x;
    b->plane.hot_y = plane.hot_y;
    b->plane.has_hot = plane.has_hot;
    *out = b;
    return 0;
}

/*
 * How a GL console shows @b.  Handed to it only if EGL imports its format
 * with its modifier into the texture a console draws; others (an Intel Yf
 * buffer on a GPU whose driver dropped Yf, packed YUV) are read back and
 * shown as a surface.  And not at all if the GL here cannot read it: a
 * software renderer fails on (or crashes drawing) a dma-buf whose
 * exporter refuses mmap, as real vendor dma-bufs do.  Decided once per
 * buffer.
 */
static VFIODisplayGLWay vfio_display_dmabuf_gl_way(VFIODisplay *dpy,
                                                   VFIODisplayBuf *b)
{
    bool takes;

    if (b->gl_way == VFIO_DISPLAY_GL_UNKNOWN) {
        takes = vfio_display_readback_importable(dpy, &b->plane);
        trace_vfio_display_readback_gl_takes(dpy->vdev->vbasedev.name,
                                             b->plane.id, b->plane.fourcc,
                                             b->plane.modifier, takes);
        if (!takes) {
            b->gl_way = VFIO_DISPLAY_GL_READBACK;
        } else if (vfio_display_readback_software_reads(dpy, b)) {
            b->gl_way = VFIO_DISPLAY_GL_SCANOUT;
        } else {
            b->gl_way = VFIO_DISPLAY_GL_NONE;
        }
    }
    return b->gl_way;
}

/* @readback: the primary plane is shown read back, so is the cursor */
static void vfio_display_dmabuf_cursor(VFIODisplay *dpy, bool readback)
{
    VFIODisplayBuf *cursor;

    if (vfio_display_dmabuf_plane(dpy, VFIO_DISPLAY_PLANE_CURSOR,
                                  &cursor) < 0) {
        return;                 /* keep the cursor we have */
    }
    if (cursor && !readback &&
        vfio_display_dmabuf_gl_way(dpy, cursor) != VFIO_DISPLAY_GL_SCANOUT) {
        cursor = NULL;          /* not shown: hide the last one */
    }
    dpy->dmabuf.cursor = cursor;
    if (!cursor) {
        vfio_display_cursor_forget(dpy);
    } else if (readback) {
        vfio_display_readback_cursor(dpy, cursor);
    } else {
        vfio_display_gl_cursor_show(dpy, cursor->buf, &cursor->plane);
    }
}

/*
 * At the first refresh the displays are up: if a GL display cannot import
 * dma-bufs (GTK gl=on where EGL has no dma-buf import), read them back.
 */
static void vfio_display_dmabuf_choose(VFIODisplay *dpy)
{
    dpy->readback.chosen = true;
    if (dpy->readback.active || vfio_display_gl_takes_dmabufs(dpy)) {
        return;
    }
    warn_report("vfio %s: the display cannot import dma-bufs; showing them "
                "through read-back", dpy->vdev->vbasedev.name);
    trace_vfio_display_probe(dpy->vdev->vbasedev.name, "dmabuf-readback");
    dpy->readback.active = true;
}

/*
 * The console stops showing our GL scanout and cursor, and the read-back's
 * surface: what comes next is shown anew.
 */
static void vfio_display_dmabuf_shown_off(VFIODisplay *dpy)
{
    vfio_display_readback_reset(dpy);
    vfio_display_gl_scanout_off(dpy);
    vfio_display_cursor_forget(dpy);
    dpy->dmabuf.cursor = NULL;
}

/* the primary plane is @b now: another buffer than the last one, a flip */
static void vfio_display_dmabuf_primary_is(VFIODisplay *dpy,
                                           VFIODisplayBuf *b)
{
    if (dpy->dmabuf.primary && b != dpy->dmabuf.primary) {
        dpy->stats.flips++;
    }
    dpy->dmabuf.primary = b;
}

/* @primary read back: a console without GL, or a buffer GL does not take */
static void vfio_display_dmabuf_show_readback(VFIODisplay *dpy,
                                              VFIODisplayBuf *primary)
{
    if (dpy->dmabuf.gl_scanout) {
        /* from a GL scanout to our surface */
        vfio_display_dmabuf_shown_off(dpy);
    }
    vfio_display_dmabuf_primary_is(dpy, primary);
    if (vfio_display_readback_primary(dpy, primary)) {
        dpy->guest_scanout = true;
        vfio_display_dmabuf_cursor(dpy, true);
    }
}

/* @primary handed to the GL display */
static void vfio_display_dmabuf_show_gl(VFIODisplay *dpy,
                                        VFIODisplayBuf *primary)
{
    if (!dpy->dmabuf.gl_scanout && dpy->readback.shadow.surface) {
        /* from our surface and cursor to the GL scanout: they go */
        vfio_display_dmabuf_shown_off(dpy);
    }
    if (primary != dpy->dmabuf.primary || !dpy->dmabuf.gl_scanout) {
        trace_vfio_display_dmabuf_scanout(dpy->vdev->vbasedev.name,
                                          primary->plane.id,
                                          primary->plane.width,
                                          primary->plane.height);
        vfio_display_dmabuf_primary_is(dpy, primary);
        vfio_display_gl_scanout(dpy, primary);
    }
    dpy->guest_scanout = true;
    vfio_display_dmabuf_cursor(dpy, false);
    vfio_display_gl_update(dpy, &primary->plane);
}

/* a GL console: @primary as vfio_display_dmabuf_gl_way() says */
static void vfio_display_dmabuf_show_primary_gl(VFIODisplay *dpy,
                                                VFIODisplayBuf *primary)
{
    switch (vfio_display_dmabuf_gl_way(dpy, primary)) {
    case VFIO_DISPLAY_GL_SCANOUT:
        vfio_display_dmabuf_show_gl(dpy, primary);
        break;
    case VFIO_DISPLAY_GL_READBACK:
        vfio_display_dmabuf_show_readback(dpy, primary);
        break;
    default:
        break;                  /* not shown: the last frame stays */
    }
}

/* the guest shows no primary plane: ramfb, if there is one */
static void vfio_display_dmabuf_none(VFIODisplay *dpy)
{
    vfio_display_gl_scanout_off(dpy);
    dpy->dmabuf.primary = NULL;
    if (dpy->guest_scanout) {
        /* handed over to ramfb: a query asked before is not shown */
        vfio_display_vendor_forget(dpy);
        dpy->guest_scanout = false;
    }
    vfio_display_show_ramfb(dpy);
}

static void vfio_display_dmabuf_update(void *opaque)
{
    VFIODisplay *dpy = opaque;
    VFIODisplayBuf *primary;
    int ret;

    if (!dpy->readback.chosen) {
        vfio_display_dmabuf_choose(dpy);
    }
    dpy->stats.refreshes++;
    vfio_display_vendor_refresh(dpy);
    ret = vfio_display_dmabuf_plane(dpy, VFIO_DISPLAY_PLANE_PRIMARY,
                                    &primary);
    if (ret == -ENODEV && !dpy->guest_scanout) {
        vfio_display_show_ramfb(dpy);   /* the vendor is not ready yet */
    }
    if (ret == -EINPROGRESS && dpy->dmabuf.primary) {
        /* not answered yet: the buffer shown, as it was, drawn again */
        primary = dpy->dmabuf.primary;
    } else if (ret < 0) {
        goto out;               /* keep the last good frame */
    }
    if (!primary) {
        vfio_display_dmabuf_none(dpy);
    } else if (dpy->readback.active) {
        vfio_display_dmabuf_show_readback(dpy, primary);
    } else {
        vfio_display_dmabuf_show_primary_gl(dpy, primary);
    }
out:
    /* also after a fault: a new id at every refresh stays bounded */
    vfio_display_dmabuf_evict(dpy);
}

/*
 * Not GRAPHIC_FLAGS_DMABUF: a display without dma-buf import is not
 * refused, it gets the frames read back (vfio_display_dmabuf_choose).
 */
static int vfio_display_dmabuf_flags(void *opaque)
{
    return GRAPHIC_FLAGS_GL;
}

const GraphicHwOps vfio_display_dmabuf_ops = {
    .get_flags = vfio_display_dmabuf_flags,
    .gfx_update = vfio_display_dmabuf_update,
    .ui_info = vfio_display_edid_ui_info,
};

/* no GL display: the same refresh, shown through read-back */
const GraphicHwOps vfio_display_readback_ops = {
    .gfx_update = vfio_display_dmabuf_update,
    .ui_info = vfio_display_edid_ui_info,
};

/*
 * Device reset: the guest's planes are gone; the scanout goes, the
 * buffers stay.  A vendor keeps its dma-buf objects over a reset, and the
 * guest shows them again under their ids: a GET of an id whose fd was
 * closed is a kernel bug on mbochs (its pages were put), and so is one
 * whose file a GL driver still holds.  Refused ids (no fd) are forgotten.
 */
void vfio_display_dmabuf_reset(VFIODisplay *dpy)
{
    VFIODisplayBuf *b, *tmp;

    vfio_display_dmabuf_shown_off(dpy);
    dpy->dmabuf.primary = NULL;
    QTAILQ_FOREACH_SAFE(b, &dpy->dmabuf.bufs, next, tmp) {
        if (!b->buf) {
            vfio_display_dmabuf_drop(dpy, b);
        }
    }
}

/* finalize: the scanout and every buffer go */
void vfio_display_dmabuf_finalize(VFIODisplay *dpy)
{
    VFIODisplayBuf *b;

    vfio_display_dmabuf_reset(dpy);
    while ((b = QTAILQ_FIRST(&dpy->dmabuf.bufs))) {
        vfio_display_dmabuf_drop(dpy, b);
    }
}
