/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim pixels: the formats and memory layouts the models scan out, and
 * the drawing the control socket does into a model's memory.  Layouts:
 * linear; Intel X-tiled (4 KiB tiles of 512 bytes x 8 rows, row-major),
 * Y-tiled (4 KiB tiles of 128 bytes x 32 rows, made of 16-byte columns of
 * 32 rows each) and Yf-tiled (4 KiB tiles of 128 bytes x 32 rows for 2 and
 * 4 byte pixels, bytes swizzled as IGT's yf_ptr() writes them, see README),
 * as the i915 display engine reads them, without bit-6 swizzling (none on
 * the gen9+ parts GVT-g supports).  Packed YUV 4:2:2 is stored as
 * drm_fourcc.h orders its bytes, from RGB by BT.709 limited range (i915's
 * default colour encoding, skl_universal_plane_create); C8 indexes the
 * simulated guest's RGB 3:3:2 palette.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <libdrm/drm_fourcc.h>

#include "sim.h"

static const struct {
    const char *name;
    uint32_t fourcc;
    unsigned bpp;
} formats[] = {
    { "XRGB8888", DRM_FORMAT_XRGB8888, 4 },
    { "ARGB8888", DRM_FORMAT_ARGB8888, 4 },
    { "XBGR8888", DRM_FORMAT_XBGR8888, 4 },
    { "ABGR8888", DRM_FORMAT_ABGR8888, 4 },
    { "RGB565", DRM_FORMAT_RGB565, 2 },
    { "XRGB2101010", DRM_FORMAT_XRGB2101010, 4 },
    { "XBGR2101010", DRM_FORMAT_XBGR2101010, 4 },
    { "C8", DRM_FORMAT_C8, 1 },
    { "YUYV", DRM_FORMAT_YUYV, 2 },
    { "UYVY", DRM_FORMAT_UYVY, 2 },
    { "YVYU", DRM_FORMAT_YVYU, 2 },
    { "VYUY", DRM_FORMAT_VYUY, 2 },
    { "RGB888", DRM_FORMAT_RGB888, 3 },
};

/*
 * Packed YUV 4:2:2: where Y of the even pixel, Cb, Y of the odd pixel and
 * Cr sit in the 4 bytes of a pixel pair (drm_fourcc.h, little-endian:
 * YUYV is "[31:0] Cr0:Y1:Cb0:Y0", so bytes Y0 Cb Y1 Cr).
 */
typedef struct YuvOrder {
    uint32_t fourcc;
    uint8_t y0, cb, y1, cr;
} YuvOrder;

static const YuvOrder yuv_orders[] = {
    { DRM_FORMAT_YUYV, 0, 1, 2, 3 },
    { DRM_FORMAT_UYVY, 1, 0, 3, 2 },
    { DRM_FORMAT_YVYU, 0, 3, 2, 1 },
    { DRM_FORMAT_VYUY, 1, 2, 3, 0 },
};

static const YuvOrder *yuv_order(uint32_t fourcc)
{
    size_t i;

    for (i = 0; i < sizeof(yuv_orders) / sizeof(yuv_orders[0]); i++) {
        if (yuv_orders[i].fourcc == fourcc) {
            return &yuv_orders[i];
        }
    }
    return NULL;
}

bool sim_format_is_yuv(uint32_t fourcc)
{
    return yuv_order(fourcc) != NULL;
}

/* (v + 128) >> 8 rounded towards minus infinity, for negative v too */
static int shr8(int v)
{
    return (v + 128 + (256 << 8)) / 256 - 256;
}

static uint8_t clamp8(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* BT.709, limited range (Y 16..235, Cb/Cr 16..240), 8-bit integer */
void sim_rgb_to_ycbcr(uint32_t argb, uint8_t *y, uint8_t *cb, uint8_t *cr)
{
    int r = (argb >> 16) & 0xff, g = (argb >> 8) & 0xff, b = argb & 0xff;

    *y = 16 + shr8(47 * r + 157 * g + 16 * b);
    *cb = 128 + shr8(-26 * r - 86 * g + 112 * b);
    *cr = 128 + shr8(112 * r - 102 * g - 10 * b);
}

/* the inverse of sim_rgb_to_ycbcr, 0xffRRGGBB */
uint32_t sim_ycbcr_to_rgb(uint8_t y, uint8_t cb, uint8_t cr)
{
    int c = y - 16, d = cb - 128, e = cr - 128;

    return 0xff000000u | clamp8(shr8(298 * c + 459 * e)) << 16 |
           clamp8(shr8(298 * c - 55 * d - 136 * e)) << 8 |
           clamp8(shr8(298 * c + 541 * d));
}

/* the simulated guest's C8 palette: RGB 3:3:2 */
static uint32_t c8_palette(uint32_t idx)
{
    uint32_t r = idx >> 5 & 7, g = idx >> 2 & 7, b = idx & 3;

    return 0xff000000u | (r * 255 / 7) << 16 | (g * 255 / 7) << 8 |
           (b * 255 / 3);
}

uint32_t sim_format_by_name(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (!strcasecmp(formats[i].name, name)) {
            return formats[i].fourcc;
        }
    }
    return 0;
}

unsigned sim_format_bpp(uint32_t fourcc)
{
    size_t i;

    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (formats[i].fourcc == fourcc) {
            return formats[i].bpp;
        }
    }
    return 0;
}

static uint32_t ten(uint32_t c)
{
    return (c << 2) | (c >> 6);
}

uint32_t sim_pixel(uint32_t fourcc, uint32_t argb)
{
    uint32_t a = argb >> 24, r = (argb >> 16) & 0xff;
    uint32_t g = (argb >> 8) & 0xff, b = argb & 0xff;

    switch (fourcc) {
    case DRM_FORMAT_XBGR8888:
    case DRM_FORMAT_ABGR8888:
        return a << 24 | b << 16 | g << 8 | r;
    case DRM_FORMAT_RGB565:
        return (r >> 3) << 11 | (g >> 2) << 5 | (b >> 3);
    case DRM_FORMAT_XRGB2101010:
        return (a >> 6) << 30 | ten(r) << 20 | ten(g) << 10 | ten(b);
    case DRM_FORMAT_XBGR2101010:
        return (a >> 6) << 30 | ten(b) << 20 | ten(g) << 10 | ten(r);
    case DRM_FORMAT_C8:
        return (r & 0xe0) | (g >> 3 & 0x1c) | b >> 6;
    case DRM_FORMAT_RGB888:
        return argb & 0xffffff;
    default:
        return argb;
    }
}

unsigned sim_layout_tile_rows(uint64_t modifier)
{
    switch (modifier) {
    case I915_FORMAT_MOD_X_TILED:
        return 8;
    case I915_FORMAT_MOD_Y_TILED:
        return 32;
    case I915_FORMAT_MOD_Yf_TILED:
        return 32;          /* 2 and 4 byte pixels; 1 byte ones have 64 */
    default:
        return 1;
    }
}

bool sim_layout_ok(uint64_t modifier, uint32_t stride)
{
    switch (modifier) {
    case DRM_FORMAT_MOD_LINEAR:
        return true;
    case I915_FORMAT_MOD_X_TILED:
        return stride && stride % 512 == 0;
    case I915_FORMAT_MOD_Y_TILED:
    case I915_FORMAT_MOD_Yf_TILED:
        return stride && stride % 128 == 0;
    default:
        return false;
    }
}

/*
 * Byte @xb of row @y inside a 4 KiB Yf tile of 128 bytes x 32 rows: from
 * the low bit up, xb[3:0], y[1:0], y[2], xb[4], y[3], xb[5], y[4], xb[6]
 * (the pattern "xyxyxyyyxxxx", msb first, of IGT's yf_ptr()).
 */
static uint32_t yf_in_tile(uint32_t xb, uint32_t y)
{
    return (xb & 0xf) | (y & 3) << 4 | (y >> 2 & 1) << 6 |
           (xb >> 4 & 1) << 7 | (y >> 3 & 1) << 8 | (xb >> 5 & 1) << 9 |
           (y >> 4 & 1) << 10 | (xb >> 6 & 1) << 11;
}

uint64_t sim_layout_offset(uint64_t modifier, uint32_t stride, uint32_t xb,
                           uint32_t y)
{
    uint64_t tile;

    switch (modifier) {
    case I915_FORMAT_MOD_X_TILED:
        tile = (uint64_t)(y / 8) * (stride / 512) + xb / 512;
        return tile * 4096 + (y % 8) * 512 + xb % 512;
    case I915_FORMAT_MOD_Y_TILED:
        tile = (uint64_t)(y / 32) * (stride / 128) + xb / 128;
        return tile * 4096 + (xb % 128 / 16) * 512 + (y % 32) * 16 + xb % 16;
    case I915_FORMAT_MOD_Yf_TILED:
        tile = (uint64_t)(y / 32) * (stride / 128) + xb / 128;
        return tile * 4096 + yf_in_tile(xb % 128, y % 32);
    default:
        return (uint64_t)y * stride + xb;
    }
}

uint32_t sim_pattern_xy(uint32_t x, uint32_t y)
{
    return 0xff000000u | (x & 0xff) << 16 | (y & 0xff) << 8 |
           (((x >> 8) << 4 | (y >> 8)) & 0xff);
}

uint32_t sim_unpixel(uint32_t fourcc, uint32_t px)
{
    uint32_t r, g, b;

    switch (fourcc) {
    case DRM_FORMAT_XRGB8888:
        return 0xff000000u | px;
    case DRM_FORMAT_ABGR8888:
        return (px & 0xff00ff00u) | (px & 0xff) << 16 | (px >> 16 & 0xff);
    case DRM_FORMAT_XBGR8888:
        return 0xff000000u | (px & 0xff00) | (px & 0xff) << 16 |
               (px >> 16 & 0xff);
    case DRM_FORMAT_RGB565:
        r = px >> 11 & 0x1f;
        g = px >> 5 & 0x3f;
        b = px & 0x1f;
        return 0xff000000u | (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 |
               (b << 3 | b >> 2);
    case DRM_FORMAT_XRGB2101010:
        return 0xff000000u | (px >> 22 & 0xff) << 16 | (px >> 12 & 0xff) << 8 |
               (px >> 2 & 0xff);
    case DRM_FORMAT_XBGR2101010:
        return 0xff000000u | (px >> 2 & 0xff) << 16 | (px >> 12 & 0xff) << 8 |
               (px >> 22 & 0xff);
    case DRM_FORMAT_C8:
        return c8_palette(px & 0xff);
    case DRM_FORMAT_RGB888:
        return 0xff000000u | (px & 0xffffff);
    default:
        return px;
    }
}

/*
 * Map the whole of @sc (all its tile rows) after checking its geometry;
 * *base is its first byte.  Unmap with munmap(*map, *maplen).
 */
static int map_scanout(const SimScanout *sc, int prot, uint8_t **map,
                       uint64_t *maplen, uint8_t **base)
{
    unsigned bpp = sim_format_bpp(sc->fourcc);
    unsigned rows = sim_layout_tile_rows(sc->modifier);
    /* a YUV 4:2:2 row holds whole pixel pairs */
    uint64_t width = sim_format_is_yuv(sc->fourcc) ?
                     ((uint64_t)sc->width + 1) & ~1ull : sc->width;
    uint64_t size, start;

    if (!bpp || !sim_layout_ok(sc->modifier, sc->stride) ||
        width * bpp > sc->stride) {
        return -EINVAL;
    }
    /* Yf is described here for 2 and 4 byte pixels only (README) */
    if (sc->modifier == I915_FORMAT_MOD_Yf_TILED && bpp != 2 && bpp != 4) {
        return -EINVAL;
    }
    size = (uint64_t)sc->stride * ((sc->height + rows - 1) / rows * rows);
    start = sc->offset & ~(uint64_t)(SIM_PAGE_SIZE - 1);
    *maplen = sc->offset - start + size;
    *map = mmap(NULL, *maplen, prot, MAP_SHARED, sc->fd, start);
    if (*map == MAP_FAILED) {
        return -errno;
    }
    *base = *map + (sc->offset - start);
    return 0;
}

static uint8_t *pixel_at(const SimScanout *sc, uint8_t *base, uint32_t x,
                         uint32_t y)
{
    unsigned bpp = sim_format_bpp(sc->fourcc);

    return base + sim_layout_offset(sc->modifier, sc->stride, x * bpp, y);
}

/* byte @k (0..3) of the YUV pixel pair holding pixel @x of row @y */
static uint8_t *pair_byte(const SimScanout *sc, uint8_t *base, uint32_t x,
                          uint32_t y, unsigned k)
{
    return base + sim_layout_offset(sc->modifier, sc->stride,
                                    (x & ~1u) * 2 + k, y);
}

/*
 * Store @argb at (@x, @y) as the guest would.  YUV: the pixel's own Y;
 * the pair's Cb and Cr only if @chroma (the caller says which pixel of a
 * pair gives the chroma: README, "Packed YUV").
 */
static void put_pixel(const SimScanout *sc, uint8_t *base, uint32_t x,
                      uint32_t y, uint32_t argb, bool chroma)
{
    const YuvOrder *o = yuv_order(sc->fourcc);
    uint8_t cy, cb, cr;
    uint32_t px;

    if (o) {
        sim_rgb_to_ycbcr(argb, &cy, &cb, &cr);
        *pair_byte(sc, base, x, y, x & 1 ? o->y1 : o->y0) = cy;
        if (chroma) {
            *pair_byte(sc, base, x, y, o->cb) = cb;
            *pair_byte(sc, base, x, y, o->cr) = cr;
        }
        return;
    }
    px = sim_pixel(sc->fourcc, argb);
    memcpy(pixel_at(sc, base, x, y), &px, sim_format_bpp(sc->fourcc));
}

/* the 0xAARRGGBB colour of (@x, @y), decoded as put_pixel stores it */
static uint32_t get_pixel(const SimScanout *sc, uint8_t *base, uint32_t x,
                          uint32_t y)
{
    const YuvOrder *o = yuv_order(sc->fourcc);
    uint32_t px = 0;

    if (o) {
        return sim_ycbcr_to_rgb(*pair_byte(sc, base, x, y,
                                           x & 1 ? o->y1 : o->y0),
                                *pair_byte(sc, base, x, y, o->cb),
                                *pair_byte(sc, base, x, y, o->cr));
    }
    memcpy(&px, pixel_at(sc, base, x, y), sim_format_bpp(sc->fourcc));
    return sim_unpixel(sc->fourcc, px);
}

int sim_draw(const SimScanout *sc, uint32_t x, uint32_t y, uint32_t w,
             uint32_t h, const char *pattern)
{
    unsigned bpp = sim_format_bpp(sc->fourcc);
    bool xy = !strcmp(pattern, "xy");
    uint32_t argb = 0, colour = 0, i, j;
    uint8_t *map, *base;
    uint64_t maplen;
    char *end;
    int ret;

    if (!xy) {
        argb = strtoul(pattern, &end, 0);
        if (!*pattern || *end) {
            return -EINVAL;
        }
        colour = sim_pixel(sc->fourcc, argb);
    }
    if (x > sc->width || w > sc->width - x ||
        y > sc->height || h > sc->height - y) {
        return -EINVAL;
    }
    if (!w || !h) {
        return 0;
    }
    ret = map_scanout(sc, PROT_READ | PROT_WRITE, &map, &maplen, &base);
    if (ret < 0) {
        return ret;
    }
    if (!xy && sc->modifier == DRM_FORMAT_MOD_LINEAR &&
        !sim_format_is_yuv(sc->fourcc)) {
        /* a solid fill of a linear plane: one row, copied (benchmarks) */
        uint8_t *first = pixel_at(sc, base, x, y);

        for (i = 0; i < w; i++) {
            memcpy(first + i * bpp, &colour, bpp);
        }
        for (j = y + 1; j < y + h; j++) {
            memcpy(pixel_at(sc, base, x, j), first, (size_t)w * bpp);
        }
        munmap(map, maplen);
        return 0;
    }
    for (j = y; j < y + h; j++) {
        for (i = x; i < x + w; i++) {
            /* a pair's chroma: its even pixel's, or its odd one's alone */
            put_pixel(sc, base, i, j, xy ? sim_pattern_xy(i, j) : argb,
                      !(i & 1) || i == x);
        }
    }
    munmap(map, maplen);
    return 0;
}

int sim_snapshot(const SimScanout *sc, const char *path)
{
    uint8_t *map, *base, *row;
    uint32_t i, j, argb;
    uint64_t maplen;
    FILE *f;
    int ret;

    ret = map_scanout(sc, PROT_READ, &map, &maplen, &base);
    if (ret < 0) {
        return ret;
    }
    row = malloc((size_t)sc->width * 3);
    f = fopen(path, "we");
    if (!f || !row) {
        ret = -errno;
        goto out;
    }
    fprintf(f, "P6\n%u %u\n255\n", sc->width, sc->height);
    for (j = 0; j < sc->height; j++) {
        for (i = 0; i < sc->width; i++) {
            argb = get_pixel(sc, base, i, j);
            row[i * 3] = argb >> 16;
            row[i * 3 + 1] = argb >> 8;
            row[i * 3 + 2] = argb;
        }
        fwrite(row, 3, sc->width, f);
    }
    if (fflush(f) || ferror(f)) {
        ret = -EIO;
    }
out:
    if (f) {
        fclose(f);
    }
    free(row);
    munmap(map, maplen);
    return ret;
}
