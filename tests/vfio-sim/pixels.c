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
    uint64_t size, start;

    if (!bpp || !sim_layout_ok(sc->modifier, sc->stride) ||
        (uint64_t)sc->width * bpp > sc->stride) {
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

int sim_draw(const SimScanout *sc, uint32_t x, uint32_t y, uint32_t w,
             uint32_t h, const char *pattern)
{
    unsigned bpp = sim_format_bpp(sc->fourcc);
    bool xy = !strcmp(pattern, "xy");
    uint32_t colour = 0, px, i, j;
    uint8_t *map, *base;
    uint64_t maplen;
    char *end;
    int ret;

    if (!xy) {
        colour = strtoul(pattern, &end, 0);
        if (!*pattern || *end) {
            return -EINVAL;
        }
        colour = sim_pixel(sc->fourcc, colour);
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
    if (!xy && sc->modifier == DRM_FORMAT_MOD_LINEAR) {
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
            px = xy ? sim_pixel(sc->fourcc, sim_pattern_xy(i, j)) : colour;
            memcpy(pixel_at(sc, base, i, j), &px, bpp);  /* little-endian */
        }
    }
    munmap(map, maplen);
    return 0;
}

int sim_snapshot(const SimScanout *sc, const char *path)
{
    unsigned bpp = sim_format_bpp(sc->fourcc);
    uint8_t *map, *base, *row;
    uint32_t i, j, px, argb;
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
            px = 0;
            memcpy(&px, pixel_at(sc, base, i, j), bpp);
            argb = sim_unpixel(sc->fourcc, px);
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
