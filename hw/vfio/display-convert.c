/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: a plane's pixels, in any format the display shows,
 * converted to the x8r8g8b8 every console takes; pure functions.
 */
#include "qemu/osdep.h"
#include "vfio-display.h"

/*
 * YCbCr as a guest's i915 scans it out by default: BT.709, limited range
 * (16-235, 16-240; skl_universal_plane_create's color properties).  The
 * vfio plane info carries no colour encoding.  In 8.8 fixed point.
 */
static inline uint32_t yuv_clamp(int v)
{
    return v < 0 ? 0 : v > 255 * 256 ? 255 : (v + 128) >> 8;
}

static inline uint32_t yuv_pixel(int y, int cb, int cr)
{
    int c = 298 * (y - 16), d = cb - 128, e = cr - 128;

    return 0xff000000u | yuv_clamp(c + 459 * e) << 16 |
           yuv_clamp(c - 55 * d - 136 * e) << 8 | yuv_clamp(c + 541 * d);
}

/* pixel pairs x..x+w (x and w even) of @h rows */
static void convert_yuv422(const VFIODisplayPlane *p, const uint8_t *src,
                           size_t src_pitch, uint32_t *dst, size_t dst_pitch,
                           uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    const uint8_t *o = p->yuv;
    uint32_t i, j;

    for (j = y; j < y + h; j++) {
        const uint8_t *s = src + j * src_pitch + x * 2;
        uint32_t *d = (uint32_t *)((uint8_t *)dst + j * dst_pitch) + x;

        for (i = 0; i < w; i += 2, s += 4) {
            d[i] = yuv_pixel(s[o[0]], s[o[1]], s[o[3]]);
            d[i + 1] = yuv_pixel(s[o[2]], s[o[1]], s[o[3]]);
        }
    }
}

/*
 * Pixels x..x+w, y..y+h of @src (@p's format, rows @src_pitch apart, a
 * multiple of 4) into @dst (x8r8g8b8, rows @dst_pitch apart).
 */
void vfio_display_convert_rect(const VFIODisplayPlane *p, const uint8_t *src,
                               size_t src_pitch, uint32_t *dst,
                               size_t dst_pitch, uint32_t x, uint32_t y,
                               uint32_t w, uint32_t h)
{
    pixman_image_t *from, *to;

    if (p->conv == VFIO_DISPLAY_CONV_YUV422) {
        /* a pair shares its chroma: whole pairs (the width is even) */
        w += x & 1;
        x &= ~1u;
        w = ROUND_UP(w, 2);
        convert_yuv422(p, src, src_pitch, dst, dst_pitch, x, y, w, h);
        return;
    }
    /* on our own bits and pitches: pixman fails only to allocate a header */
    from = pixman_image_create_bits(p->pixman, p->width, p->height,
                                    (uint32_t *)src, src_pitch);
    to = pixman_image_create_bits(PIXMAN_x8r8g8b8, p->width, p->height,
                                  dst, dst_pitch);
    g_assert(from && to);
    pixman_image_composite32(PIXMAN_OP_SRC, from, NULL, to, x, y, 0, 0, x, y,
                             w, h);
    pixman_image_unref(from);
    pixman_image_unref(to);
}
