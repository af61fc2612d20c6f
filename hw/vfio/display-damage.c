/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: damage tracking for the paths without GL (region,
 * read-back).  The vendor ABI has no change signal, so the console is
 * shown our own copy of the plane (the shadow), and each refresh compares
 * the device's frame with it in one pass, tile by tile: only tiles that
 * differ are copied, and only their rectangles are reported.  A static
 * screen costs one compare per refresh and no update at all.
 */
#include "qemu/osdep.h"

#include "vfio-display.h"
#include "trace.h"

/* a tile: 256 bytes of a row (64 pixels of 4 bytes) by 16 rows */
#define TILE_BYTES 256
#define TILE_ROWS  16
#define MAX_TILES  (VFIO_DISPLAY_MAX_DIM * 4 / TILE_BYTES)

/* dirty tiles merged down the bands, not reported yet */
typedef struct DamageRect {
    uint32_t x0, x1, y0, y1;
} DamageRect;

typedef struct Damage {
    VFIODisplay *dpy;
    DamageRect open[MAX_TILES];
    unsigned nopen;
    uint64_t pixels;
} Damage;

static void damage_report(Damage *d, const DamageRect *r)
{
    VFIODisplay *dpy = d->dpy;

    trace_vfio_display_damage(dpy->vdev->vbasedev.name, r->x0, r->y0,
                              r->x1 - r->x0, r->y1 - r->y0);
    dpy_gfx_update(dpy->con, r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0);
    d->pixels += (uint64_t)(r->x1 - r->x0) * (r->y1 - r->y0);
    dpy->stats.updates++;
}

/*
 * A run x0..x1 of dirty pixels in rows y0..y1: extends an open rectangle
 * that spans the same columns and ends at y0, else opens one.
 */
static void damage_add(Damage *d, uint32_t x0, uint32_t x1, uint32_t y0,
                       uint32_t y1)
{
    unsigned i;

    for (i = 0; i < d->nopen; i++) {
        DamageRect *r = &d->open[i];

        if (r->x0 == x0 && r->x1 == x1 && r->y1 == y0) {
            r->y1 = y1;
            return;
        }
    }
    assert(d->nopen < MAX_TILES);
    d->open[d->nopen++] = (DamageRect) { x0, x1, y0, y1 };
}

/* report the open rectangles that do not reach row @y (all if 0) */
static void damage_flush(Damage *d, uint32_t y)
{
    unsigned i = 0;

    while (i < d->nopen) {
        if (y && d->open[i].y1 == y) {
            i++;
            continue;
        }
        damage_report(d, &d->open[i]);
        d->open[i] = d->open[--d->nopen];
    }
}

/*
 * Copy the rows y0..y0+rows of @src into @dst where they differ; the
 * tiles found dirty are set in @dirty.  Rows of a tile before its first
 * difference were equal, so they need no copy.
 */
static uint64_t damage_band(const VFIODisplayPlane *p, const uint8_t *src,
                            uint8_t *dst, uint32_t y0, uint32_t rows,
                            bool *dirty, unsigned ntiles)
{
    uint32_t row_bytes = p->width * p->bpp, y, len;
    uint64_t copied = 0, off;
    bool any = false;
    unsigned t;

    for (y = y0; y < y0 + rows; y++) {
        off = (uint64_t)y * p->stride;
        if (!any && !memcmp(src + off, dst + off, row_bytes)) {
            continue;           /* the common case: an unchanged row */
        }
        for (t = 0; t < ntiles; t++) {
            len = MIN(TILE_BYTES, row_bytes - t * TILE_BYTES);
            if (dirty[t] || memcmp(src + off + t * TILE_BYTES,
                                   dst + off + t * TILE_BYTES, len)) {
                dirty[t] = any = true;
                memcpy(dst + off + t * TILE_BYTES, src + off + t * TILE_BYTES,
                       len);
                copied += len;
            }
        }
    }
    return copied;
}

/*
 * Bring @dst (the shadow shown by the console) up to @src (the device's
 * frame), both linear in @p's layout, and report what changed.  @full:
 * the shadow is new, copy and report all of it.
 */
static void vfio_display_damage(VFIODisplay *dpy, const VFIODisplayPlane *p,
                                const uint8_t *src, uint8_t *dst, bool full)
{
    unsigned ntiles = DIV_ROUND_UP(p->width * p->bpp, TILE_BYTES), t, t0;
    uint32_t px_per_tile = TILE_BYTES / p->bpp, y, rows;
    bool dirty[MAX_TILES];
    uint64_t copied = 0;
    g_autofree Damage *d = g_new0(Damage, 1);

    d->dpy = dpy;
    if (full) {
        for (y = 0; y < p->height; y++) {
            memcpy(dst + (uint64_t)y * p->stride,
                   src + (uint64_t)y * p->stride, p->width * p->bpp);
        }
        copied = (uint64_t)p->width * p->bpp * p->height;
        damage_report(d, &(DamageRect) { 0, p->width, 0, p->height });
    } else {
        for (y = 0; y < p->height; y += TILE_ROWS) {
            rows = MIN(TILE_ROWS, p->height - y);
            memset(dirty, 0, ntiles);
            copied += damage_band(p, src, dst, y, rows, dirty, ntiles);
            for (t = 0; t < ntiles; t++) {
                if (!dirty[t]) {
                    continue;
                }
                t0 = t;
                while (t + 1 < ntiles && dirty[t + 1]) {
                    t++;
                }
                damage_add(d, t0 * px_per_tile,
                           MIN((t + 1) * px_per_tile, p->width), y, y + rows);
            }
            damage_flush(d, y + rows);
        }
        damage_flush(d, 0);
    }
    dpy->stats.bytes_copied += copied;
    dpy->stats.damage_pixels += d->pixels;
}

/*
 * Show frame @src (linear, @p's layout) through @s: a new surface when the
 * layout changed or the console shows something else (ramfb, a
 * placeholder), then only the damage.
 */
void vfio_display_shadow_show(VFIODisplay *dpy, VFIODisplayShadow *s,
                              const VFIODisplayPlane *p, const uint8_t *src)
{
    uint8_t *old = s->pixels;
    bool full = false;

    if (!s->surface || qemu_console_surface(dpy->con) != s->surface ||
        !vfio_display_plane_same(&s->plane, p)) {
        trace_vfio_display_shadow_surface(dpy->vdev->vbasedev.name, p->width,
                                          p->height, p->stride);
        s->plane = *p;
        s->pixels = g_malloc0((uint64_t)p->stride * p->height);
        s->surface = qemu_create_displaysurface_from(p->width, p->height,
                                                     p->pixman, p->stride,
                                                     s->pixels);
        dpy_gfx_replace_surface(dpy->con, s->surface);
        g_free(old);
        full = true;
    }
    vfio_display_damage(dpy, p, src, s->pixels, full);
}

/* the console forgets the shadow's surface before its pixels go */
void vfio_display_shadow_reset(VFIODisplay *dpy, VFIODisplayShadow *s)
{
    vfio_display_surface_release(dpy, s->surface);
    s->surface = NULL;      /* the console owned and freed it */
    g_clear_pointer(&s->pixels, g_free);
}
