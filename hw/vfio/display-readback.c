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
#include "qemu/timer.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "ui/dmabuf.h"
#include "vfio-display.h"
#include "trace.h"

static void vfio_display_readback_release(VFIODisplay *dpy,
                                          VFIODisplayBuf *b);

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

/*
 * Our EGL context, to read @p's buffer: set up once, and after a failure
 * tried again only for a plane of another layout, not at every refresh
 * nor at every flip between two buffers.
 */
static EglReadback *vfio_display_readback_egl(VFIODisplay *dpy,
                                              const VFIODisplayPlane *p,
                                              Error **errp)
{
    Error *err = NULL;

    if (dpy->readback.egl) {
        return dpy->readback.egl;
    }
    if (dpy->readback.egl_error &&
        vfio_display_plane_same(&dpy->readback.egl_plane, p)) {
        error_setg(errp, "%s", dpy->readback.egl_error);
        return NULL;
    }
    dpy->readback.egl = egl_readback_new(&err);
    g_clear_pointer(&dpy->readback.egl_error, g_free);
    if (!dpy->readback.egl) {
        trace_vfio_display_readback_egl_failed(dpy->vdev->vbasedev.name,
                                               p->id, error_get_pretty(err));
        dpy->readback.egl_error = g_strdup(error_get_pretty(err));
        dpy->readback.egl_plane = *p;
        error_propagate(errp, err);
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

/*
 * *@buf, of *@buf_size bytes, made to hold @size (a frame's buffer):
 * grown, and shrunk once a frame needs under half of it, so that memory
 * goes back down after a large plane.
 */
static uint8_t *vfio_display_readback_buf(uint8_t **buf, size_t *buf_size,
                                          size_t size)
{
    if (*buf_size < size || size < *buf_size / 2) {
        vfio_display_frame_free(*buf, *buf_size);
        *buf = vfio_display_frame_alloc(size);
        *buf_size = *buf ? size : 0;
    }
    return *buf;
}

/* *@buf, of *@buf_size bytes, goes */
static void vfio_display_readback_buf_free(uint8_t **buf, size_t *buf_size)
{
    vfio_display_frame_free(*buf, *buf_size);
    *buf = NULL;
    *buf_size = 0;
}

/*
 * @b, shown on plane @cursor (or the primary), now holds GL imports.
 * Each import holds an fd and a mapping of its buffer, so only the
 * buffers read last keep them: the cursor's, and the primary plane's last
 * two (a guest that flips between two buffers does not import anew at
 * every flip).
 */
static void vfio_display_readback_hold(VFIODisplay *dpy, VFIODisplayBuf *b,
                                       bool cursor)
{
    VFIODisplayBuf **h = dpy->readback.gl_holder;

    if (cursor) {
        if (h[2] && h[2] != b) {
            vfio_display_readback_release(dpy, h[2]);
        }
        h[2] = b;
        return;
    }
    if (h[0] == b) {
        return;
    }
    if (h[1] != b && h[1]) {
        vfio_display_readback_release(dpy, h[1]);
    }
    h[1] = h[0];
    h[0] = b;
}

/* the bytes of @b, shown on plane @cursor, into @dst; false after a fault */
static bool vfio_display_readback_bytes(VFIODisplay *dpy, VFIODisplayBuf *b,
                                        bool cursor, uint8_t *dst)
{
    int fd = qemu_dmabuf_get_fd(b->buf);
    uint64_t size = b->plane.min_size;
    Error *err = NULL;
    const void *map;

    map = vfio_display_readback_map(dpy, b);
    if (map) {
        dmabuf_sync(fd, DMA_BUF_SYNC_START);
        memcpy(dst, map, size);
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
    if (vfio_display_readback_egl(dpy, &b->plane, &err) && !b->gl_all) {
        b->gl_all = egl_readback_image_new(dpy->readback.egl, fd,
                                           b->plane.stride, 0, 1,
                                           size / b->plane.stride, &err);
        vfio_display_readback_hold(dpy, b, cursor);
    }
    if (!b->gl_all ||
        !egl_readback_image_read(dpy->readback.egl, b->gl_all, dst, &err)) {
        b->gl_failed = dpy->readback.egl != NULL;
        vfio_display_readback_fault(dpy, err);
        error_free(err);
        return false;
    }
    vfio_display_recovered(dpy, VFIO_DISPLAY_FAULT_READBACK);
    return true;
}

/* can a software renderer read @b (vfio-display.h)? */
bool vfio_display_readback_software_reads(VFIODisplay *dpy,
                                          VFIODisplayBuf *b)
{
    g_autofree uint8_t *bytes = NULL;
    Error *err = NULL;
    bool ok;

    if (vfio_display_readback_map(dpy, b) ||
        !vfio_display_readback_egl(dpy, &b->plane, &err) ||
        !egl_readback_software(dpy->readback.egl)) {
        /* mappable, a GPU, or nothing to judge with: as before */
        error_free(err);
        return true;
    }
    bytes = g_try_malloc(b->plane.min_size);
    ok = bytes && vfio_display_readback_bytes(dpy, b, false, bytes);
    vfio_display_readback_drop(dpy, b);
    return ok;
}

/* does our EGL import @p's format with its modifier (vfio-display.h)? */
bool vfio_display_readback_importable(VFIODisplay *dpy,
                                      const VFIODisplayPlane *p)
{
    Error *err = NULL;
    EglReadback *egl = vfio_display_readback_egl(dpy, p, &err);

    error_free(err);
    return !egl || egl_readback_importable(egl, p->fourcc, p->modifier);
}

/*
 * The "rows" a sample of @p's bytes is made of: a linear buffer's own
 * rows; a tiled buffer's 256-byte pieces, so that a sample takes one
 * piece of every 4 KiB tile (X and Y tiles alike), not a band of tiles
 * out of every tile row.
 */
static size_t vfio_display_readback_unit(const VFIODisplayPlane *p)
{
    return p->modifier == DRM_FORMAT_MOD_LINEAR ? p->stride : 256;
}

/*
 * Rows @first, @first + SAMPLE_STEP... (@count of them) of @unit bytes of
 * @b, read through GL into dpy->readback.rows; NULL if GL cannot.
 */
static const uint8_t *vfio_display_readback_sample_gl(VFIODisplay *dpy,
                                                      VFIODisplayBuf *b,
                                                      size_t unit,
                                                      uint32_t first,
                                                      uint32_t count)
{
    EglReadbackImage **im = &b->gl_rows[first];
    Error *err = NULL;
    uint8_t *dst;

    if (b->gl_failed || !dpy->readback.egl || dpy->readback.sample_failed) {
        return NULL;
    }
    /*
     * Imported once per buffer and row set, the import being the costly
     * part: up to SAMPLE_STEP imports, each with an fd, for the buffers
     * vfio_display_readback_hold() keeps.  (One import read a row at a
     * time cost twice the CPU on llvmpipe, and a GPU a stall per row.)
     */
    if (!*im) {
        *im = egl_readback_image_new(dpy->readback.egl,
                                     qemu_dmabuf_get_fd(b->buf), unit, first,
                                     VFIO_DISPLAY_SAMPLE_STEP, count, &err);
        vfio_display_readback_hold(dpy, b, false);
    }
    dst = vfio_display_readback_buf(&dpy->readback.rows,
                                    &dpy->readback.rows_size, count * unit);
    if (!dst) {
        return NULL;            /* a full read reports it */
    }
    if (!*im || !egl_readback_image_read(dpy->readback.egl, *im, dst, &err)) {
        /* GL cannot read samples here: full reads from now on */
        dpy->readback.sample_failed = true;
        trace_vfio_display_readback_sample_failed(dpy->vdev->vbasedev.name,
                                                  error_get_pretty(err));
        error_free(err);
        return NULL;
    }
    return dst;
}

/*
 * On a still screen, compare sampled rows of @b, still the buffer last
 * read whole, with that read: true if this refresh has nothing more to
 * do.  Any failure leaves it to a full read, which reports faults.
 */
static bool vfio_display_readback_still(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    const VFIODisplayPlane *p = &b->plane;
    size_t unit = vfio_display_readback_unit(p);
    size_t pitch = unit * VFIO_DISPLAY_SAMPLE_STEP;
    int fd = qemu_dmabuf_get_fd(b->buf);
    const uint8_t *map, *last, *dst;
    uint32_t first, count;
    bool same;

    if (!dpy->readback.raw_valid || dpy->readback.raw_plane.id != p->id ||
        !vfio_display_plane_same(&dpy->readback.raw_plane, p) ||
        !vfio_display_shadow_sample(dpy, &dpy->readback.shadow, p,
                                    p->min_size / unit, &first, &count)) {
        return false;
    }
    last = dpy->readback.raw + first * unit;
    map = vfio_display_readback_map(dpy, b);
    if (map) {
        dmabuf_sync(fd, DMA_BUF_SYNC_START);
        same = vfio_display_rows_same(map + first * unit, pitch, last, pitch,
                                      unit, count);
        dmabuf_sync(fd, DMA_BUF_SYNC_END);
    } else {
        dst = vfio_display_readback_sample_gl(dpy, b, unit, first, count);
        if (!dst) {
            return false;
        }
        same = vfio_display_rows_same(dst, unit, last, pitch, unit, count);
    }
    dpy->stats.bytes_read += (uint64_t)count * unit;
    return same;
}

/* show primary buffer @b; false (last frame kept) after a fault */
bool vfio_display_readback_primary(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    const VFIODisplayPlane *p = &b->plane;
    const uint8_t *frame;
    uint8_t *raw;

    if (vfio_display_readback_still(dpy, b)) {
        return true;
    }
    dpy->readback.raw_valid = false;
    raw = vfio_display_readback_buf(&dpy->readback.raw,
                                    &dpy->readback.raw_size, p->min_size);
    if (p->modifier != DRM_FORMAT_MOD_LINEAR && raw &&
        !vfio_display_readback_buf(&dpy->readback.linear,
                                   &dpy->readback.linear_size, p->min_size)) {
        raw = NULL;
    }
    if (!raw) {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_MEMORY, "no memory to "
                           "read back a %ux%u frame", p->width, p->height);
        return false;
    }
    if (!vfio_display_readback_bytes(dpy, b, false, raw)) {
        return false;
    }
    dpy->readback.raw_valid = true;
    dpy->readback.raw_plane = *p;
    frame = dpy->readback.raw;
    dpy->stats.readbacks++;
    dpy->stats.bytes_read += p->min_size;
    if (p->modifier != DRM_FORMAT_MOD_LINEAR) {
        vfio_display_detile(p, dpy->readback.raw, dpy->readback.linear);
        frame = dpy->readback.linear;
    } else if (dpy->readback.linear) {
        /* a linear plane after a tiled one: its buffer goes */
        vfio_display_readback_buf_free(&dpy->readback.linear,
                                       &dpy->readback.linear_size);
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

/* show cursor plane @b read back (vfio-display.h) */
void vfio_display_readback_cursor(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    const VFIODisplayPlane *p = &b->plane;
    g_autofree uint32_t *img = NULL;
    uint8_t *raw;

    raw = vfio_display_readback_buf(&dpy->readback.cursor_raw,
                                    &dpy->readback.cursor_raw_size,
                                    p->min_size);
    if (!raw || p->modifier != DRM_FORMAT_MOD_LINEAR || p->bpp != 4 ||
        !vfio_display_readback_bytes(dpy, b, true, raw)) {
        return;
    }
    img = g_new(uint32_t, (size_t)p->width * p->height);
    vfio_display_cursor_pixels(p, raw, img);
    vfio_display_cursor_show(dpy, p, &img);
}

/* a buffer is dropped: its CPU mapping and GL imports go with it */
void vfio_display_readback_drop(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    if (b->cpu_map) {
        munmap(b->cpu_map, b->plane.min_size);
        b->cpu_map = NULL;
    }
    vfio_display_readback_release(dpy, b);
}

/* @b's GL imports go */
static void vfio_display_readback_release(VFIODisplay *dpy,
                                          VFIODisplayBuf *b)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(dpy->readback.gl_holder); i++) {
        if (dpy->readback.gl_holder[i] == b) {
            dpy->readback.gl_holder[i] = NULL;
        }
    }
    if (dpy->readback.egl) {
        egl_readback_image_free(dpy->readback.egl, b->gl_all);
        for (i = 0; i < ARRAY_SIZE(b->gl_rows); i++) {
            egl_readback_image_free(dpy->readback.egl, b->gl_rows[i]);
        }
    }
    b->gl_all = NULL;
    memset(b->gl_rows, 0, sizeof(b->gl_rows));
}

void vfio_display_readback_reset(VFIODisplay *dpy)
{
    vfio_display_shadow_reset(dpy, &dpy->readback.shadow);
    vfio_display_readback_buf_free(&dpy->readback.raw,
                                   &dpy->readback.raw_size);
    dpy->readback.raw_valid = false;
    dpy->readback.sample_failed = false;
    vfio_display_readback_buf_free(&dpy->readback.rows,
                                   &dpy->readback.rows_size);
    vfio_display_readback_buf_free(&dpy->readback.cursor_raw,
                                   &dpy->readback.cursor_raw_size);
    vfio_display_readback_buf_free(&dpy->readback.linear,
                                   &dpy->readback.linear_size);
}
