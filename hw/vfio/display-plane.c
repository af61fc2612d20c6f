/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: what a vendor driver reports about a plane, decoded
 * and checked in pure functions (no device state), so that nothing past
 * this file ever sees an unchecked size, stride, format or modifier.
 */
#include "qemu/osdep.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "vfio-display.h"

/*
 * Every format a vendor driver may report for a plane (GVT-g's SKL+
 * decoder, mbochs, mdpy, NVIDIA's console), and how it becomes the
 * x8r8g8b8 every console takes.  DRM formats are little endian, as
 * pixman's codes are on the hosts we run on.
 */
static const struct {
    uint32_t fourcc;
    pixman_format_code_t pixman;    /* how pixman reads it, if it can */
    uint32_t bpp;
    bool alpha;                     /* a cursor may use it */
    VFIODisplayConv conv;
    uint8_t yuv[4];                 /* packed 4:2:2: bytes of Y0 Cb Y1 Cr */
} formats[] = {
    { DRM_FORMAT_XRGB8888, PIXMAN_x8r8g8b8, 4, false, VFIO_DISPLAY_CONV_NONE },
    { DRM_FORMAT_ARGB8888, PIXMAN_a8r8g8b8, 4, true, VFIO_DISPLAY_CONV_NONE },
    { DRM_FORMAT_XBGR8888, PIXMAN_x8b8g8r8, 4, false,
      VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_ABGR8888, PIXMAN_a8b8g8r8, 4, true,
      VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_RGB888, PIXMAN_r8g8b8, 3, false, VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_BGR888, PIXMAN_b8g8r8, 3, false, VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_RGB565, PIXMAN_r5g6b5, 2, false, VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_XRGB2101010, PIXMAN_x2r10g10b10, 4, false,
      VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_XBGR2101010, PIXMAN_x2b10g10r10, 4, false,
      VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_ARGB2101010, PIXMAN_a2r10g10b10, 4, false,
      VFIO_DISPLAY_CONV_PIXMAN },
    { DRM_FORMAT_ABGR2101010, PIXMAN_a2b10g10r10, 4, false,
      VFIO_DISPLAY_CONV_PIXMAN },
    /* drm_fourcc.h: YUYV is [31:0] Cr0:Y1:Cb0:Y0, and so on */
    { DRM_FORMAT_YUYV, 0, 2, false, VFIO_DISPLAY_CONV_YUV422, { 0, 1, 2, 3 } },
    { DRM_FORMAT_YVYU, 0, 2, false, VFIO_DISPLAY_CONV_YUV422, { 0, 3, 2, 1 } },
    { DRM_FORMAT_UYVY, 0, 2, false, VFIO_DISPLAY_CONV_YUV422, { 1, 0, 3, 2 } },
    { DRM_FORMAT_VYUY, 0, 2, false, VFIO_DISPLAY_CONV_YUV422, { 1, 2, 3, 0 } },
};

/* rows of one tile of @modifier; 0 if the modifier is unknown */
static uint32_t tile_rows(uint64_t modifier, uint32_t bpp,
                          uint32_t *stride_align)
{
    switch (modifier) {
    case DRM_FORMAT_MOD_LINEAR:
        *stride_align = 1;
        return 1;
    case I915_FORMAT_MOD_X_TILED:
        *stride_align = 512;
        return 8;
    case I915_FORMAT_MOD_Y_TILED:
        *stride_align = 128;
        return 32;
    case I915_FORMAT_MOD_Yf_TILED:
        /* 4 KiB tiles of 128 bytes by 32 rows at 16 and 32 bpp */
        if (bpp != 2 && bpp != 4) {
            return 0;
        }
        *stride_align = 128;
        return 32;
    default:
        return 0;
    }
}

static bool check_format(VFIODisplayPlane *p, bool cursor, const char **why)
{
    size_t i;

    if (p->fourcc == DRM_FORMAT_C8) {
        *why = "C8 (indexed colour): the vfio display ABI carries no palette";
        return false;
    }
    for (i = 0; i < ARRAY_SIZE(formats); i++) {
        if (formats[i].fourcc == p->fourcc) {
            if (cursor && !formats[i].alpha) {
                *why = "cursor plane without alpha";
                return false;
            }
            p->pixman = formats[i].pixman;
            p->bpp = formats[i].bpp;
            p->conv = formats[i].conv;
            memcpy(p->yuv, formats[i].yuv, sizeof(p->yuv));
            return true;
        }
    }
    *why = "unknown drm_format";
    return false;
}

static bool check_geometry(VFIODisplayPlane *p, bool cursor, bool dmabuf,
                           const char **why)
{
    uint32_t max = cursor ? VFIO_DISPLAY_MAX_CURSOR : VFIO_DISPLAY_MAX_DIM;
    uint32_t rows, align;

    if (!p->width || !p->height || p->width > max || p->height > max) {
        *why = cursor ? "cursor size out of range" : "size out of range";
        return false;
    }
    if (p->conv == VFIO_DISPLAY_CONV_YUV422 && p->width % 2) {
        *why = "packed 4:2:2 YUV of an odd width";
        return false;
    }
    rows = tile_rows(p->modifier, p->bpp, &align);
    if (!rows || (!dmabuf && p->modifier != DRM_FORMAT_MOD_LINEAR)) {
        *why = "unsupported drm_format_mod";
        return false;
    }
    if ((uint64_t)p->width * p->bpp > p->stride ||
        p->stride > (uint64_t)VFIO_DISPLAY_MAX_DIM * 4 * 4 ||
        p->stride % align) {
        *why = "stride does not fit the width or the tiling";
        return false;
    }
    p->min_size = (uint64_t)p->stride * ROUND_UP(p->height, rows);
    if (p->min_size > VFIO_DISPLAY_MAX_FRAME) {
        *why = "plane spans more than 1 GiB";
        return false;
    }
    if (p->size < p->min_size) {
        *why = "size smaller than stride * height";
        return false;
    }
    return true;
}

/*
 * Decode @info, the answer to a DMABUF or REGION query of plane @type,
 * into @plane.  False with a reason in *why for a plane not to be shown.
 * Call only for a plane that exists (drm_format and size non-zero).
 */
bool vfio_display_plane_check(const struct vfio_device_gfx_plane_info *info,
                              uint32_t type, bool dmabuf,
                              VFIODisplayPlane *plane, const char **why)
{
    bool cursor = type == VFIO_DISPLAY_PLANE_CURSOR;
    VFIODisplayPlane p = {
        .fourcc = info->drm_format,
        .modifier = info->drm_format_mod,
        .width = info->width,
        .height = info->height,
        .stride = info->stride,
        .size = info->size,
        .x = info->x_pos,
        .y = info->y_pos,
        .hot_x = info->x_hot,
        .hot_y = info->y_hot,
        .id = dmabuf ? info->dmabuf_id : info->region_index,
    };

    if (!check_format(&p, cursor, why) ||
        !check_geometry(&p, cursor, dmabuf, why)) {
        return false;
    }
    /* the uapi: UINT_MAX in both means the vendor knows no hotspot */
    p.has_hot = cursor && !(p.hot_x == UINT32_MAX && p.hot_y == UINT32_MAX);
    if (p.has_hot && (p.hot_x >= p.width || p.hot_y >= p.height)) {
        *why = "cursor hotspot outside the cursor";
        return false;
    }
    *plane = p;
    return true;
}

/* does the size @plane reports lie inside @limit (a region, a dma-buf)? */
bool vfio_display_plane_fits(const VFIODisplayPlane *plane, uint64_t limit)
{
    return plane->size <= limit;
}

/* the same pixel layout (which buffer, position and hotspot aside)? */
bool vfio_display_plane_same(const VFIODisplayPlane *a,
                             const VFIODisplayPlane *b)
{
    return a->fourcc == b->fourcc && a->modifier == b->modifier &&
           a->width == b->width && a->height == b->height &&
           a->stride == b->stride;
}

/*
 * The offset inside its 4 KiB tile of the 16-byte column @xb (a byte
 * offset in the tile's 128-byte width) of row @y: Y tiles are 16-byte
 * columns of 32 rows; Yf tiles (at 16 and 32 bpp) interleave the bits of
 * x and y above the 16-byte unit, msb to lsb x y x y x y y y, as Intel's
 * IGT writes them (lib/intel_bufops.c, yf_ptr).
 */
static uint32_t tile_y_offset(bool yf, uint32_t xb, uint32_t y)
{
    if (!yf) {
        return xb / 16 * 512 + y * 16;
    }
    return (y & 3) * 16 + (y & 4) * 16 + (xb & 0x10) * 8 + (y & 8) * 32 +
           (xb & 0x20) * 16 + (y & 0x10) * 64 + (xb & 0x40) * 32;
}

/*
 * Intel tiled layouts to linear, @dst with the plane's stride: X tiles
 * are 512 bytes x 8 rows, row-major; Y and Yf tiles 128 bytes x 32 rows
 * (no bit-6 swizzling on the gen9+ parts).  Tiles lie row-major.
 */
void vfio_display_detile(const VFIODisplayPlane *p, const uint8_t *src,
                         uint8_t *dst)
{
    bool x = p->modifier == I915_FORMAT_MOD_X_TILED;
    bool yf = p->modifier == I915_FORMAT_MOD_Yf_TILED;
    uint32_t tw = x ? 512 : 128, th = x ? 8 : 32, chunk = x ? 512 : 16;
    uint32_t tiles_per_row = p->stride / tw, y, xb;
    uint64_t tile, off;

    for (y = 0; y < p->height; y++) {
        for (xb = 0; xb < p->stride; xb += chunk) {
            tile = (uint64_t)(y / th) * tiles_per_row + xb / tw;
            off = tile * 4096 + (x ? (y % th) * 512 :
                                 tile_y_offset(yf, xb % tw, y % th));
            memcpy(dst + (uint64_t)y * p->stride + xb, src + off, chunk);
        }
    }
}
