/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: dma-buf planes on consoles without GL (VNC, SPICE
 * 2D, screendump).  The buffer's bytes come from a CPU mmap where the
 * exporter allows one, else from a GL import and read-back; they are
 * detiled and shown as a pixman surface, the cursor as a QEMUCursor.
 */
#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "qapi/error.h"
#include "qemu/error-report.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "ui/dmabuf.h"
#include "vfio-display.h"
#include "trace.h"

static void dmabuf_sync(int fd, uint64_t flags)
{
    struct dma_buf_sync sync = { .flags = flags | DMA_BUF_SYNC_READ };

    while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0 && errno == EINTR) {
        /* retry */
    }
}

/* a CPU mapping of @b, where the exporter allows one (tried once) */
static void *vfio_display_readback_map(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    if (!b->cpu_map_tried) {
        b->cpu_map_tried = true;
        b->cpu_map = mmap(NULL, b->plane.min_size, PROT_READ, MAP_SHARED,
                          qemu_dmabuf_get_fd(b->buf), 0);
        if (b->cpu_map == MAP_FAILED) {
            trace_vfio_display_readback_mmap(dpy->vdev->vbasedev.name,
                                             b->plane.id, errno);
            b->cpu_map = NULL;
        }
    }
    return b->cpu_map;
}

static EglReadback *vfio_display_readback_egl(VFIODisplay *dpy, Error **errp)
{
    if (!dpy->readback.egl) {
        dpy->readback.egl = egl_readback_new(errp);
    }
    return dpy->readback.egl;
}

/* why @b cannot be read: the message of its (one) fault */
static void vfio_display_readback_fault(VFIODisplay *dpy, Error *err)
{
    if (dpy->readback.egl && egl_readback_software(dpy->readback.egl)) {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_READBACK,
                           "dma-buf planes cannot be shown without a GPU: "
                           "the vendor driver refuses a CPU mapping of its "
                           "dma-bufs, and the software renderer needs one "
                           "(%s)", error_get_pretty(err));
    } else {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_READBACK,
                           "dma-buf planes cannot be shown on this display: "
                           "no CPU mapping (the exporter refuses one) and %s",
                           error_get_pretty(err));
    }
}

/* the bytes of @b into dpy->readback.raw; false after a fault */
static bool vfio_display_readback_bytes(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    int fd = qemu_dmabuf_get_fd(b->buf);
    uint64_t size = b->plane.min_size;
    Error *err = NULL;
    const void *map;

    if (dpy->readback.raw_size < size) {
        g_free(dpy->readback.raw);
        dpy->readback.raw = g_malloc(size);
        dpy->readback.raw_size = size;
    }
    map = vfio_display_readback_map(dpy, b);
    if (map) {
        dmabuf_sync(fd, DMA_BUF_SYNC_START);
        memcpy(dpy->readback.raw, map, size);
        dmabuf_sync(fd, DMA_BUF_SYNC_END);
        return true;
    }
    if (b->gl_failed) {
        /* not imported again: the GL driver would fail (and say so) again */
        error_setg(&err, "it failed before");
        vfio_display_readback_fault(dpy, err);
        error_free(err);
        return false;
    }
    if (!vfio_display_readback_egl(dpy, &err) ||
        !egl_readback_raw(dpy->readback.egl, fd, b->plane.stride,
                          size / b->plane.stride, dpy->readback.raw, &err)) {
        b->gl_failed = dpy->readback.egl != NULL;
        vfio_display_readback_fault(dpy, err);
        error_free(err);
        return false;
    }
    vfio_display_recovered(dpy, VFIO_DISPLAY_FAULT_READBACK);
    return true;
}

/*
 * May a GL display be given @b?  A GPU imports any dma-buf; a software
 * renderer (llvmpipe) maps it, and fails on one whose exporter refuses
 * mmap, as real vendor dma-bufs do, or crashes when it draws it.  Where
 * the CPU cannot map @b and our own renderer is software, @b is read
 * back once through it: if that fails, no GL display on this machine can
 * show @b either.  Decided once per buffer; for GL displays only.
 */
bool vfio_display_readback_gl_ok(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    Error *err = NULL;

    if (!b->gl_checked) {
        b->gl_checked = true;
        if (vfio_display_readback_map(dpy, b) ||
            !vfio_display_readback_egl(dpy, &err) ||
            !egl_readback_software(dpy->readback.egl)) {
            /* mappable, a GPU, or nothing to judge with: as before */
            error_free(err);
            b->gl_ok = true;
        } else {
            b->gl_ok = vfio_display_readback_bytes(dpy, b);
            /* a GL display shows the frames: the bytes are not kept */
            g_clear_pointer(&dpy->readback.raw, g_free);
            dpy->readback.raw_size = 0;
        }
    }
    return b->gl_ok;
}

/* show primary buffer @b; false (last frame kept) after a fault */
bool vfio_display_readback_primary(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    const VFIODisplayPlane *p = &b->plane;
    const uint8_t *frame;

    if (!vfio_display_readback_bytes(dpy, b)) {
        return false;
    }
    frame = dpy->readback.raw;
    dpy->stats.readbacks++;
    dpy->stats.bytes_read += p->min_size;
    if (p->modifier != DRM_FORMAT_MOD_LINEAR) {
        if (dpy->readback.linear_size < p->min_size) {
            g_free(dpy->readback.linear);
            dpy->readback.linear = g_malloc(p->min_size);
            dpy->readback.linear_size = p->min_size;
        }
        vfio_display_detile(p, dpy->readback.raw, dpy->readback.linear);
        frame = dpy->readback.linear;
    }
    vfio_display_shadow_show(dpy, &dpy->readback.shadow, p, frame);
    return true;
}

/* the cursor image as QEMUCursor wants it: 0xAARRGGBB words */
static void vfio_display_cursor_pixels(const VFIODisplayPlane *p,
                                       const uint8_t *raw, uint32_t *out)
{
    uint32_t x, y, px;

    for (y = 0; y < p->height; y++) {
        for (x = 0; x < p->width; x++) {
            px = ldl_le_p(raw + (uint64_t)y * p->stride + x * 4);
            if (p->fourcc == DRM_FORMAT_ABGR8888) {
                px = (px & 0xff00ff00) | (px & 0xff) << 16 |
                     (px >> 16 & 0xff);
            }
            out[y * p->width + x] = px;
        }
    }
}

/* @b NULL: no cursor plane */
void vfio_display_readback_cursor(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    const VFIODisplayPlane *p = b ? &b->plane : NULL;
    g_autofree uint32_t *img = NULL;
    QEMUCursor *c;
    bool moved;
    size_t n;

    if (!b) {
        if (dpy->readback.cursor) {
            dpy_mouse_set(dpy->con, 0, 0, false);
            g_clear_pointer(&dpy->readback.cursor, g_free);
        }
        return;
    }
    if (p->modifier != DRM_FORMAT_MOD_LINEAR || p->bpp != 4 ||
        !vfio_display_readback_bytes(dpy, b)) {
        return;
    }
    n = (size_t)p->width * p->height;
    img = g_new(uint32_t, n);
    vfio_display_cursor_pixels(p, dpy->readback.raw, img);
    moved = !dpy->readback.cursor || p->x != dpy->readback.cursor_plane.x ||
            p->y != dpy->readback.cursor_plane.y;
    if (!dpy->readback.cursor ||
        !vfio_display_plane_same(&dpy->readback.cursor_plane, p) ||
        dpy->readback.cursor_plane.hot_x != p->hot_x ||
        dpy->readback.cursor_plane.hot_y != p->hot_y ||
        memcmp(dpy->readback.cursor, img, n * 4)) {
        c = cursor_alloc(p->width, p->height);
        memcpy(c->data, img, n * 4);
        c->hot_x = p->has_hot ? p->hot_x : 0;
        c->hot_y = p->has_hot ? p->hot_y : 0;
        dpy_cursor_define(dpy->con, c);
        cursor_unref(c);
        g_free(dpy->readback.cursor);
        dpy->readback.cursor = g_steal_pointer(&img);
    }
    dpy->readback.cursor_plane = *p;
    if (moved) {
        dpy_mouse_set(dpy->con, p->x, p->y, true);
    }
}

/* a buffer is dropped: its CPU mapping goes with it */
void vfio_display_readback_drop(VFIODisplayBuf *b)
{
    if (b->cpu_map) {
        munmap(b->cpu_map, b->plane.min_size);
        b->cpu_map = NULL;
    }
}

void vfio_display_readback_reset(VFIODisplay *dpy)
{
    vfio_display_shadow_reset(dpy, &dpy->readback.shadow);
    g_clear_pointer(&dpy->readback.raw, g_free);
    dpy->readback.raw_size = 0;
    g_clear_pointer(&dpy->readback.linear, g_free);
    dpy->readback.linear_size = 0;
    g_clear_pointer(&dpy->readback.cursor, g_free);
}
