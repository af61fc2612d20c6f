/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: what the console is shown, the lowest part of the
 * surface layer.  The one helper that changes the console's surface
 * (and forgets the surfaces of ours the console freed), the ramfb
 * hand-over, the cursor (an image, or a dma-buf on a GL console) and the
 * GL scanout.  display-damage.c, above it, keeps the shadow the console
 * is shown on the paths without GL.
 */
#include "qemu/osdep.h"

#include "vfio-display.h"
#include "trace.h"

/*
 * What the console shows changed (a surface of ours, ramfb's, or a
 * placeholder): the surfaces of ours it replaced were freed with it, and
 * are forgotten here, in one place, for the shadows and direct mode.
 */
static void vfio_display_shown_changed(VFIODisplay *dpy)
{
    DisplaySurface *now = qemu_console_surface(dpy->con);
    DisplaySurface **ours[] = {
        &dpy->region.shadow.surface, &dpy->region.shadow.direct,
        &dpy->readback.shadow.surface,
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(ours); i++) {
        if (*ours[i] != now) {
            *ours[i] = NULL;
        }
    }
}

/* the one place that changes the console's surface (vfio-display.h) */
void vfio_display_show_surface(VFIODisplay *dpy, DisplaySurface *surface)
{
    dpy_gfx_replace_surface(dpy->con, surface);
    vfio_display_shown_changed(dpy);
}

/* the console shows @surface: leave it a placeholder before it goes */
void vfio_display_surface_release(VFIODisplay *dpy, DisplaySurface *surface)
{
    if (surface && dpy->con && qemu_console_surface(dpy->con) == surface) {
        vfio_display_show_surface(dpy, NULL);
    }
}

/* no guest plane: ramfb shows, if the device has one; true if it did */
bool vfio_display_show_ramfb(VFIODisplay *dpy)
{
    if (!dpy->ramfb) {
        return false;
    }
    ramfb_display_update(dpy->con, dpy->ramfb);
    /* ramfb's surface, once the guest set it up, replaced (freed) ours */
    vfio_display_shown_changed(dpy);
    return true;
}

/* the console's cursor goes, whichever we defined (vfio-display.h) */
void vfio_display_cursor_forget(VFIODisplay *dpy)
{
    VFIODisplayCursor *c = &dpy->cursor;

    if (c->image && dpy->con) {
        dpy_mouse_set(dpy->con, 0, 0, false);
    }
    if (c->dmabuf && dpy->con) {
        dpy_gl_cursor_dmabuf(dpy->con, NULL, false, 0, 0);
    }
    g_clear_pointer(&c->image, g_free);
    c->dmabuf = NULL;
}

static bool vfio_display_cursor_image_changed(VFIODisplay *dpy,
                                              const VFIODisplayPlane *p,
                                              const uint32_t *img)
{
    const VFIODisplayCursor *c = &dpy->cursor;

    return !c->image || !vfio_display_plane_same(&c->plane, p) ||
           c->plane.hot_x != p->hot_x || c->plane.hot_y != p->hot_y ||
           memcmp(c->image, img, (size_t)p->width * p->height * 4);
}

/*
 * The console's cursor is the image *@img (x8r8g8b8 with alpha, one
 * uint32_t a pixel) of cursor plane @p: defined again only if it changed,
 * *@img then kept (stolen), and moved only if it moved.
 */
void vfio_display_cursor_show(VFIODisplay *dpy, const VFIODisplayPlane *p,
                              uint32_t **img)
{
    VFIODisplayCursor *c = &dpy->cursor;
    bool moved = !c->image || p->x != c->plane.x || p->y != c->plane.y;
    QEMUCursor *qc;

    if (c->dmabuf) {
        vfio_display_cursor_forget(dpy);    /* from a GL console's */
    }
    if (vfio_display_cursor_image_changed(dpy, p, *img)) {
        qc = cursor_alloc(p->width, p->height);
        memcpy(qc->data, *img, (size_t)p->width * p->height * 4);
        qc->hot_x = p->has_hot ? p->hot_x : 0;
        qc->hot_y = p->has_hot ? p->hot_y : 0;
        dpy_cursor_define(dpy->con, qc);
        cursor_unref(qc);
        g_free(c->image);
        c->image = g_steal_pointer(img);
    }
    c->plane = *p;
    if (moved) {
        dpy_mouse_set(dpy->con, p->x, p->y, true);
    }
}

/*
 * GL consoles: the dma-buf itself is shown.  Whether the console's GL
 * displays take dma-bufs at all (GTK gl=on with an EGL that cannot import
 * them does not).
 */
bool vfio_display_gl_takes_dmabufs(VFIODisplay *dpy)
{
    return qemu_console_has_dmabuf(dpy->con);
}

/* the console scans out @b's dma-buf, at its size */
void vfio_display_gl_scanout(VFIODisplay *dpy, VFIODisplayBuf *b)
{
    dpy->dmabuf.gl_scanout = true;
    qemu_console_resize(dpy->con, b->plane.width, b->plane.height);
    dpy_gl_scanout_dmabuf(dpy->con, b->buf);
}

/* the console scans out no dma-buf of ours any more */
void vfio_display_gl_scanout_off(VFIODisplay *dpy)
{
    if (dpy->con && dpy->dmabuf.gl_scanout) {
        dpy_gl_scanout_disable(dpy->con);
    }
    dpy->dmabuf.gl_scanout = false;
}

/*
 * The scanout of @plane is drawn again: the ABI has no change signal, so
 * all of it may have changed.  Not while the GL display has a draw still
 * to finish (SPICE gl=on blocks the console until its client is done): a
 * second draw meanwhile aborts SPICE's server, and a screendump asks for
 * a refresh whether the console is blocked or not; the next refresh
 * sends it.
 */
void vfio_display_gl_update(VFIODisplay *dpy, const VFIODisplayPlane *plane)
{
    if (qemu_console_is_gl_blocked(dpy->con)) {
        return;
    }
    dpy_gl_update(dpy->con, 0, 0, plane->width, plane->height);
    dpy->stats.gl_updates++;
}

/* the console lets go of @buf before it is closed */
void vfio_display_gl_release(VFIODisplay *dpy, QemuDmaBuf *buf)
{
    if (dpy->cursor.dmabuf == buf) {
        vfio_display_cursor_forget(dpy);
    }
    dpy_gl_release_dmabuf(dpy->con, buf);
}

/* a new cursor image, or a new hotspot for the one shown */
static bool vfio_display_gl_cursor_changed(VFIODisplay *dpy, QemuDmaBuf *buf,
                                           const VFIODisplayPlane *p)
{
    const VFIODisplayCursor *c = &dpy->cursor;

    return buf != c->dmabuf || p->hot_x != c->plane.hot_x ||
           p->hot_y != c->plane.hot_y;
}

/*
 * The GL console's cursor is @buf, the dma-buf of cursor plane @p:
 * defined again only if it changed and moved only if it moved.
 */
void vfio_display_gl_cursor_show(VFIODisplay *dpy, QemuDmaBuf *buf,
                                 const VFIODisplayPlane *p)
{
    VFIODisplayCursor *c = &dpy->cursor;
    bool moved = !c->dmabuf || p->x != c->plane.x || p->y != c->plane.y;

    if (!dpy->con) {
        return;
    }
    if (c->image) {
        vfio_display_cursor_forget(dpy);    /* from a cursor image */
    }
    if (vfio_display_gl_cursor_changed(dpy, buf, p)) {
        c->dmabuf = buf;
        dpy_gl_cursor_dmabuf(dpy->con, buf, p->has_hot, p->hot_x, p->hot_y);
    }
    c->plane = *p;
    if (moved) {
        trace_vfio_display_dmabuf_cursor(dpy->vdev->vbasedev.name, p->id,
                                         p->x, p->y);
        dpy_gl_cursor_position(dpy->con, p->x, p->y);
    }
}
