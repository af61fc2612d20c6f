/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim pixels: the formats and memory layouts the models scan out, and
 * the drawing the control socket does into a model's memory.  Layouts:
 * linear; Intel X-tiled (4 KiB tiles of 512 bytes x 8 rows, row-major) and
 * Y-tiled (4 KiB tiles of 128 bytes x 32 rows, made of 16-byte columns of
 * 32 rows each), as the i915 display engine reads them, without bit-6
 * swizzling (none on the gen9+ parts GVT-g supports).
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
};

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
        return stride && stride % 128 == 0;
    default:
        return false;
    }
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
    default:
        return (uint64_t)y * stride + xb;
    }
}

uint32_t sim_pattern_xy(uint32_t x, uint32_t y)
{
    return 0xff000000u | (x & 0xff) << 16 | (y & 0xff) << 8 |
           (((x >> 8) << 4 | (y >> 8)) & 0xff);
}

int sim_draw(const SimScanout *sc, uint32_t x, uint32_t y, uint32_t w,
             uint32_t h, const char *pattern)
{
    unsigned bpp = sim_format_bpp(sc->fourcc);
    unsigned rows = sim_layout_tile_rows(sc->modifier);
    bool xy = !strcmp(pattern, "xy");
    uint32_t colour = 0, px, i, j;
    uint64_t size, start, maplen;
    uint8_t *map, *base;
    char *end;

    if (!xy) {
        colour = strtoul(pattern, &end, 0);
        if (!*pattern || *end) {
            return -EINVAL;
        }
        colour = sim_pixel(sc->fourcc, colour);
    }
    if (!bpp || !sim_layout_ok(sc->modifier, sc->stride) ||
        x > sc->width || w > sc->width - x ||
        y > sc->height || h > sc->height - y ||
        (uint64_t)sc->width * bpp > sc->stride) {
        return -EINVAL;
    }
    if (!w || !h) {
        return 0;
    }
    size = (uint64_t)sc->stride * ((sc->height + rows - 1) / rows * rows);
    start = sc->offset & ~(uint64_t)(SIM_PAGE_SIZE - 1);
    maplen = sc->offset - start + size;
    map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, sc->fd,
               start);
    if (map == MAP_FAILED) {
        return -errno;
    }
    base = map + (sc->offset - start);
    for (j = y; j < y + h; j++) {
        for (i = x; i < x + w; i++) {
            uint8_t *p = base + sim_layout_offset(sc->modifier, sc->stride,
                                                  i * bpp, j);

            px = xy ? sim_pixel(sc->fourcc, sim_pattern_xy(i, j)) : colour;
            memcpy(p, &px, bpp);  /* little-endian, as the formats are */
        }
    }
    munmap(map, maplen);
    return 0;
}
