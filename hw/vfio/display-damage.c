/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: damage tracking for the paths without GL (region,
 * read-back).  The vendor ABI has no change signal, so the console is
 * shown our own copy of the plane (the shadow), and each refresh compares
 * the device's frame with it in one pass, tile by tile: only tiles that
 * differ are copied, and only their rectangles are reported.
 *
 * A still screen would still cost a compare of the whole frame at every
 * refresh (SPICE refreshes 33 times a second): once the frame has not
 * changed for VFIO_DISPLAY_STILL_MS, a refresh compares one row in
 * VFIO_DISPLAY_SAMPLE_STEP, a row further down each time, and the whole
 * frame only when a sampled row differs, when a screendump waits, or when
 * the rows have not all been compared in VFIO_DISPLAY_FULL_MS (a rotation
 * of SAMPLE_STEP samples compares them all; at SPICE's 33 refreshes a
 * second it takes half a second).  Only refreshes that come in quick
 * succession sample (VFIO_DISPLAY_GAP_MS): a client that connects, or
 * VNC's refresh, which slows down to one in three seconds on a still
 * screen, gets the whole frame compared.  A change at least SAMPLE_STEP
 * rows tall shows at the next refresh, as before; a smaller one within
 * SAMPLE_STEP refreshes.
 */
#include "qemu/osdep.h"
#include <sys/mman.h>

#include "qemu/madvise.h"
#include "qemu/timer.h"
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
    VFIODisplayShadow *s;
    bool quiet;                 /* measure only: the console is not told */
    DamageRect open[MAX_TILES];
    unsigned nopen;
    uint64_t pixels;
} Damage;

static void damage_report(Damage *d, const DamageRect *r)
{
    VFIODisplay *dpy = d->dpy;

    d->pixels += (uint64_t)(r->x1 - r->x0) * (r->y1 - r->y0);
    if (d->quiet) {
        return;
    }
    if (d->s->plane.conv != VFIO_DISPLAY_CONV_NONE) {
        vfio_display_convert_rect(&d->s->plane, d->s->pixels, d->s->pitch,
                                  d->s->converted, d->s->plane.width * 4,
                                  r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0);
    }
    trace_vfio_display_damage(dpy->vdev->vbasedev.name, r->x0, r->y0,
                              r->x1 - r->x0, r->y1 - r->y0);
    dpy_gfx_update(dpy->con, r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0);
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

/* the shadow's rows for @p: packed, 4-byte aligned as pixman wants */
static size_t shadow_pitch(const VFIODisplayPlane *p)
{
    return ROUND_UP((size_t)p->width * p->bpp, 4);
}

/* the sizes of @s's pixels and conversion, as allocated for its plane */
static size_t shadow_pixels_size(const VFIODisplayShadow *s)
{
    return s->pitch * s->plane.height;
}

static size_t shadow_converted_size(const VFIODisplayShadow *s)
{
    return (size_t)s->plane.width * 4 * s->plane.height;
}

/*
 * Copy the rows y0..y0+rows of @src (@p's stride) into @dst (@pitch)
 * where they differ; the tiles found dirty are set in @dirty.  Rows of a
 * tile before its first difference were equal, so they need no copy.
 */
static uint64_t damage_band(const VFIODisplayPlane *p, const uint8_t *src,
                            uint8_t *dst, size_t pitch, uint32_t y0,
                            uint32_t rows, bool *dirty, unsigned ntiles)
{
    uint32_t row_bytes = p->width * p->bpp, y, len;
    const uint8_t *from;
    uint64_t copied = 0;
    bool any = false;
    uint8_t *to;
    unsigned t;

    for (y = y0; y < y0 + rows; y++) {
        from = src + (uint64_t)y * p->stride;
        to = dst + (uint64_t)y * pitch;
        if (!any && !memcmp(from, to, row_bytes)) {
            continue;           /* the common case: an unchanged row */
        }
        for (t = 0; t < ntiles; t++) {
            len = MIN(TILE_BYTES, row_bytes - t * TILE_BYTES);
            if (dirty[t] || memcmp(from + t * TILE_BYTES, to + t * TILE_BYTES,
                                   len)) {
                dirty[t] = any = true;
                memcpy(to + t * TILE_BYTES, from + t * TILE_BYTES, len);
                copied += len;
            }
        }
    }
    return copied;
}

/*
 * A buffer that holds a frame, on transparent huge pages where the host
 * has them: a compare that finds nothing touches every page of the frame
 * (or of its sampled rows) once per refresh, and on 4 KiB pages the page
 * walks cost more than the compare itself (a sampled compare of a 1080p
 * shadow took a third of the time once its shadow was on huge pages).
 *
 * A mapping of its own, not the heap: glibc serves a block under its
 * mmap threshold from the heap, and raises that threshold (up to 32 MiB)
 * to the size of every mapped block freed.  After one large frame, the
 * next ones came from the heap, and once freed stayed resident there:
 * 76 MiB more after a 1280x7096 frame came and went.  An unmapped frame
 * goes back to the host at once.
 */
static size_t frame_len(size_t size)
{
    return ROUND_UP(MAX(size, 1), VFIO_DISPLAY_HUGE_PAGE);
}

void *vfio_display_frame_alloc(size_t size)
{
    size_t len = frame_len(size);
    size_t total = len + VFIO_DISPLAY_HUGE_PAGE;
    uint8_t *base, *buf;

    if (len < size || total < len) {
        return NULL;            /* the caller reports it */
    }
    base = mmap(NULL, total, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        return NULL;
    }
    /* aligned to a huge page; the rest of the mapping goes */
    buf = QEMU_ALIGN_PTR_UP(base, VFIO_DISPLAY_HUGE_PAGE);
    if (buf != base) {
        munmap(base, buf - base);
    }
    if (base + total != buf + len) {
        munmap(buf + len, base + total - (buf + len));
    }
    qemu_madvise(buf, len, QEMU_MADV_HUGEPAGE);
    return buf;                 /* zeroed, as anonymous memory is */
}

void vfio_display_frame_free(void *buf, size_t size)
{
    if (buf) {
        munmap(buf, frame_len(size));
    }
}

/*
 * The next row set of a rotation over @rows rows, *@phase the last one:
 * its first row; *@count rows, SAMPLE_STEP apart.
 */
uint32_t vfio_display_sample_next(uint32_t *phase, uint32_t rows,
                                  uint32_t *count)
{
    *phase = (*phase + 1) % VFIO_DISPLAY_SAMPLE_STEP;
    *count = DIV_ROUND_UP(rows - *phase, VFIO_DISPLAY_SAMPLE_STEP);
    return *phase;
}

/*
 * May this refresh of @s, showing @p, compare sampled rows only?  Then
 * true, with the rows to compare: @first, @first + SAMPLE_STEP... (@count
 * of them) of the @rows the caller's layout has.  Counted as a sample.
 */
bool vfio_display_shadow_sample(VFIODisplay *dpy, VFIODisplayShadow *s,
                                const VFIODisplayPlane *p, uint32_t rows,
                                uint32_t *first, uint32_t *count)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    int64_t gap = now - s->refresh_ms;

    s->refresh_ms = now;
    if (!s->surface || qemu_console_surface(dpy->con) != s->surface ||
        !vfio_display_plane_same(&s->plane, p) ||
        rows < VFIO_DISPLAY_SAMPLE_STEP ||
        gap > VFIO_DISPLAY_GAP_MS ||
        now - s->changed_ms < VFIO_DISPLAY_STILL_MS ||
        now - s->full_ms >= VFIO_DISPLAY_FULL_MS ||
        qemu_console_update_awaited(dpy->con)) {
        return false;
    }
    *first = vfio_display_sample_next(&s->phase, rows, count);
    if (s->phase == 0) {
        s->rotation_ms = now;
    } else if (s->phase == VFIO_DISPLAY_SAMPLE_STEP - 1) {
        /*
         * With this sample every row has been compared since the
         * rotation began, as good as a full compare then (if this one
         * differs, the full compare follows anyway).
         */
        s->full_ms = MAX(s->full_ms, s->rotation_ms);
    }
    dpy->stats.samples++;
    trace_vfio_display_sample(dpy->vdev->vbasedev.name, *first, *count);
    return true;
}

/* are @count rows of @len bytes, @a_pitch apart in @a, equal to @b's? */
bool vfio_display_rows_same(const uint8_t *a, size_t a_pitch,
                            const uint8_t *b, size_t b_pitch, size_t len,
                            uint32_t count)
{
    uint32_t i;

    for (i = 0; i < count; i++) {
        if (memcmp(a + i * a_pitch, b + i * b_pitch, len)) {
            return false;
        }
    }
    return true;
}

/* every row of frame @src (@p's stride) into @dst (@pitch); bytes copied */
static uint64_t frame_copy(const VFIODisplayPlane *p, const uint8_t *src,
                           uint8_t *dst, size_t pitch)
{
    uint32_t y;

    for (y = 0; y < p->height; y++) {
        memcpy(dst + (uint64_t)y * pitch, src + (uint64_t)y * p->stride,
               (size_t)p->width * p->bpp);
    }
    return (uint64_t)p->width * p->bpp * p->height;
}

/*
 * Bring @s's pixels (shown by the console) up to @src (the device's
 * frame, linear in @p's layout), and report what changed (unless
 * @quiet); the damaged pixels.  @full: the shadow is new, copy and report
 * all of it.
 */
static uint64_t vfio_display_damage(VFIODisplay *dpy, VFIODisplayShadow *s,
                                    const VFIODisplayPlane *p,
                                    const uint8_t *src, bool full, bool quiet)
{
    unsigned ntiles = DIV_ROUND_UP(p->width * p->bpp, TILE_BYTES), t, t0;
    uint8_t *dst = s->pixels;
    bool dirty[MAX_TILES];
    uint32_t y, rows;
    uint64_t copied = 0;
    g_autofree Damage *d = g_new0(Damage, 1);

    d->dpy = dpy;
    d->s = s;
    d->quiet = quiet;
    if (full) {
        copied = frame_copy(p, src, dst, s->pitch);
        damage_report(d, &(DamageRect) { 0, p->width, 0, p->height });
    } else {
        for (y = 0; y < p->height; y += TILE_ROWS) {
            rows = MIN(TILE_ROWS, p->height - y);
            memset(dirty, 0, ntiles);
            copied += damage_band(p, src, dst, s->pitch, y, rows, dirty,
                                  ntiles);
            for (t = 0; t < ntiles; t++) {
                if (!dirty[t]) {
                    continue;
                }
                t0 = t;
                while (t + 1 < ntiles && dirty[t + 1]) {
                    t++;
                }
                /* every pixel with a byte in the tiles (3 bytes a pixel) */
                damage_add(d, t0 * TILE_BYTES / p->bpp,
                           MIN(DIV_ROUND_UP((t + 1) * TILE_BYTES, p->bpp),
                               p->width), y, y + rows);
            }
            damage_flush(d, y + rows);
        }
        damage_flush(d, 0);
    }
    dpy->stats.bytes_copied += copied;
    if (!quiet) {
        dpy->stats.damage_pixels += d->pixels;
    }
    return d->pixels;
}

/*
 * The console is shown @s: an x8r8g8b8 surface on its pixels, or on
 * their conversion (what every console takes, with a stride of ours).
 */
static void shadow_surface_new(VFIODisplay *dpy, VFIODisplayShadow *s)
{
    const VFIODisplayPlane *p = &s->plane;
    void *shown = s->converted ? (void *)s->converted : s->pixels;

    DisplaySurface *surface;

    surface = qemu_create_displaysurface_from(p->width, p->height,
                                              PIXMAN_x8r8g8b8,
                                              p->width * 4, shown);
    s->surface = surface;
    vfio_display_show_surface(dpy, surface);
}

/*
 * Show frame @src (linear, @p's layout) through @s: a new surface when the
 * layout changed or the console shows something else (ramfb, a
 * placeholder), then only the damage.
 */
uint64_t vfio_display_shadow_show(VFIODisplay *dpy, VFIODisplayShadow *s,
                                  const VFIODisplayPlane *p,
                                  const uint8_t *src)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    uint8_t *old = s->pixels, *pixels_new;
    uint32_t *old_converted = s->converted, *converted_new = NULL;
    size_t old_size = shadow_pixels_size(s);
    size_t old_converted_size = shadow_converted_size(s);
    size_t pitch = shadow_pitch(p);
    uint64_t pixels;
    bool full = false;

    if (!s->surface || qemu_console_surface(dpy->con) != s->surface ||
        !vfio_display_plane_same(&s->plane, p)) {
        trace_vfio_display_shadow_surface(dpy->vdev->vbasedev.name, p->width,
                                          p->height, p->stride);
        pixels_new = vfio_display_frame_alloc(pitch * p->height);
        if (pixels_new && p->conv != VFIO_DISPLAY_CONV_NONE) {
            converted_new = vfio_display_frame_alloc((size_t)p->width * 4 *
                                                     p->height);
        }
        if (!pixels_new ||
            (p->conv != VFIO_DISPLAY_CONV_NONE && !converted_new)) {
            vfio_display_frame_free(pixels_new, pitch * p->height);
            vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_MEMORY, "no memory "
                               "for a %ux%u frame", p->width, p->height);
            return 0;           /* the last frame stays */
        }
        s->plane = *p;
        s->pitch = pitch;
        s->pixels = pixels_new;
        s->converted = converted_new;
        shadow_surface_new(dpy, s);
        vfio_display_frame_free(old, old_size);
        vfio_display_frame_free(old_converted, old_converted_size);
        full = true;
    }
    pixels = vfio_display_damage(dpy, s, p, src, full, false);
    if (pixels) {
        s->changed_ms = now;
    }
    s->full_ms = now;
    return pixels;
}

/*
 * For a console that shows something else for now (the device's own
 * mapping, display-region.c): copy frame @src into @s's pixels.  False if
 * @s has no pixels of @p's layout.
 */
bool vfio_display_shadow_snapshot(VFIODisplayShadow *s,
                                  const VFIODisplayPlane *p,
                                  const uint8_t *src)
{
    if (!s->pixels || !vfio_display_plane_same(&s->plane, p)) {
        return false;
    }
    frame_copy(p, src, s->pixels, s->pitch);
    return true;
}

/*
 * The same: bring @s's pixels up to frame @src and return the pixels that
 * changed since the last snapshot, the console not told.
 */
uint64_t vfio_display_shadow_measure(VFIODisplay *dpy, VFIODisplayShadow *s,
                                     const VFIODisplayPlane *p,
                                     const uint8_t *src)
{
    return vfio_display_damage(dpy, s, p, src, false, true);
}

/*
 * Show @s again, its pixels up to date (vfio_display_shadow_measure()):
 * a surface on them replaces what the console shows, all of it reported.
 */
void vfio_display_shadow_resume(VFIODisplay *dpy, VFIODisplayShadow *s)
{
    const VFIODisplayPlane *p = &s->plane;
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

    if (s->converted) {
        vfio_display_convert_rect(p, s->pixels, s->pitch, s->converted,
                                  p->width * 4, 0, 0, p->width, p->height);
    }
    shadow_surface_new(dpy, s);
    /* GTK's GL widget uploads a new surface on an update only */
    dpy_gfx_update_full(dpy->con);
    dpy->stats.updates++;
    dpy->stats.damage_pixels += (uint64_t)p->width * p->height;
    s->changed_ms = s->full_ms = now;
}

/* the console forgets the shadow's surface before its pixels go */
void vfio_display_shadow_reset(VFIODisplay *dpy, VFIODisplayShadow *s)
{
    vfio_display_surface_release(dpy, s->surface);
    s->surface = NULL;      /* the console owned and freed it */
    vfio_display_frame_free(s->pixels, shadow_pixels_size(s));
    s->pixels = NULL;
    vfio_display_frame_free(s->converted, shadow_converted_size(s));
    s->converted = NULL;
}

/* @s's mapping is no longer shown directly (its shadow may be) */
void vfio_display_direct_end(VFIODisplay *dpy, VFIODisplayShadow *s)
{
    if (s->direct) {
        vfio_display_surface_release(dpy, s->direct);
        s->direct = NULL;
    }
    s->busy = 0;
    s->snapshot = false;
}

/*
 * Direct mode, for a shadow of a mapping (@src, a region device's plane).
 * While most of the frame changes at every refresh, our compare finds it
 * all different and copies it all, and the console's server (VNC,
 * SPICE) compares what we report with its own copy again.  Then the
 * console is shown the mapped plane itself and told it all changed, as
 * stock QEMU does, and every DIRECT_CHECK refreshes a snapshot and a
 * compare at the next refresh measure the change: under half the frame,
 * the shadow, up to date from that compare, is shown again.  True if this
 * refresh was done so.
 */
bool vfio_display_direct_refresh(VFIODisplay *dpy, VFIODisplayShadow *s,
                                 const VFIODisplayPlane *plane,
                                 const uint8_t *src)
{
    uint64_t area = (uint64_t)plane->width * plane->height;

    if (!s->direct) {
        return false;
    }
    if (qemu_console_surface(dpy->con) != s->direct ||
        !vfio_display_plane_same(&s->plane, plane)) {
        vfio_display_direct_end(dpy, s);
        return false;
    }
    if (s->snapshot) {
        s->snapshot = false;
        if (vfio_display_shadow_measure(dpy, s, plane, src) * 2 < area) {
            trace_vfio_display_region_direct(dpy->vdev->vbasedev.name, false);
            s->direct = NULL;       /* freed by the console */
            s->busy = 0;
            vfio_display_shadow_resume(dpy, s);
            return true;
        }
    } else if (++s->direct_refreshes % VFIO_DISPLAY_DIRECT_CHECK == 0) {
        s->snapshot = vfio_display_shadow_snapshot(s, plane, src);
    }
    dpy_gfx_update_full(dpy->con);
    dpy->stats.updates++;
    dpy->stats.damage_pixels += area;
    dpy->stats.direct++;
    return true;
}

/* after a refresh that damaged @pixels: show the mapping from now on? */
void vfio_display_direct_busy(VFIODisplay *dpy, VFIODisplayShadow *s,
                              const VFIODisplayPlane *plane, uint8_t *src,
                              uint64_t pixels)
{
    if (pixels * 2 < (uint64_t)plane->width * plane->height) {
        s->busy = 0;
        return;
    }
    /* only a plane every console takes as it is: x8r8g8b8, pixman's stride */
    if (plane->conv != VFIO_DISPLAY_CONV_NONE || plane->stride % 4 ||
        ++s->busy < VFIO_DISPLAY_DIRECT_ENTER || !s->surface ||
        qemu_console_surface(dpy->con) != s->surface) {
        return;
    }
    trace_vfio_display_region_direct(dpy->vdev->vbasedev.name, true);
    s->direct = qemu_create_displaysurface_from(plane->width, plane->height,
                                                PIXMAN_x8r8g8b8,
                                                plane->stride, src);
    /* the console frees the shadow's surface, not its pixels */
    vfio_display_show_surface(dpy, s->direct);
    s->direct_refreshes = 0;
    s->snapshot = false;
}
