/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim model "gvt": an Intel GVT-g vGPU (KVMGT) as Linux 6.1 shows it to
 * userspace: drivers/gpu/drm/i915/gvt/kvmgt.c (regions, mmap, irqs, the EDID
 * and OpRegion regions), dmabuf.c (plane query, dma-buf ids and their
 * reference counts) and fb_decoder.c (how plane registers become a plane).
 * The guest side is not an i915: the display registers (pipe, primary and
 * cursor plane, the PV cursor hotspot) are set through the control socket,
 * as the guest's i915 driver would program them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <fcntl.h>
#include <libdrm/drm_fourcc.h>
#include <linux/pci_regs.h>

#include "sim.h"

#define GVT_OFFSET_SHIFT 40                 /* VFIO_PCI_OFFSET_SHIFT */
#define GVT_INDEX_TO_OFFSET(i) ((uint64_t)(i) << GVT_OFFSET_SHIFT)
#define GVT_OFFSET_MASK ((1ull << GVT_OFFSET_SHIFT) - 1)
#define GVT_OPREGION_INDEX VFIO_PCI_NUM_REGIONS
#define GVT_EDID_INDEX (VFIO_PCI_NUM_REGIONS + 1)
#define GVT_NUM_REGIONS (VFIO_PCI_NUM_REGIONS + 2)
#define GVT_CFG_SIZE 256                    /* device_info.cfg_space_size */
#define GVT_BAR0_SIZE (16u << 20)           /* GTTMMADR */
/* where the vGPU's slice of the aperture starts: the model's choice */
#define GVT_HOST_LOW_GM (64ull << 20)
#define GVT_OPREGION_SIZE 8192              /* OPREGION_SIZE */
#define GVT_EDID_SIZE 128                   /* EDID_SIZE */
#define GVT_EDID_BLOB_OFFSET (SIM_PAGE_SIZE / 2)
#define GVT_CURSOR_SLOT (256 * 256 * 4)     /* room for the largest cursor */

/*
 * The simulated host's GPU (a choice): a gen9 IGD with a 256 MiB aperture
 * (the vGPU's BAR2, gvt_aperture_sz), a 4 GiB GGTT (gvt_ggtt_gm_sz) and
 * 32 fences (gvt_fence_sz); gvt.h keeps HOST_LOW_GM_SIZE, HOST_HIGH_GM_SIZE
 * and HOST_FENCE of them for the host.
 */
#define GVT_APERTURE_SIZE (256ull << 20)
#define GVT_GGTT_SIZE (4096ull << 20)
#define GVT_FENCES 32
#define GVT_HOST_LOW_GM_SIZE (128ull << 20)
#define GVT_HOST_HIGH_GM_SIZE (384ull << 20)
#define GVT_HOST_FENCE 4

/*
 * intel_vgpu_configs[] on that host: the types intel_gvt_init_vgpu_types
 * keeps (a type is dropped from the first whose low GM the aperture left
 * to vGPUs cannot hold once), named GVTg_V5_<name> on gen9.
 */
typedef struct GvtType {
    const char *name;
    uint64_t low_gm, high_gm;
    uint32_t fence, weight;             /* weight: VGPU_WEIGHT(n) = 16 / n */
    uint32_t edid_x, edid_y;
} GvtType;

static const GvtType gvt_types[] = {
    { "GVTg_V5_8", 64ull << 20, 384ull << 20, 4, 2, 1024, 768 },
    { "GVTg_V5_4", 128ull << 20, 512ull << 20, 4, 4, 1920, 1200 },
};

/* PLANE_CTL (i915_reg.h, gen9): the fields fb_decoder.c decodes */
#define GVT_CTL_FORMAT_SHIFT 24             /* PLANE_CTL_FORMAT_MASK_SKL */
#define GVT_CTL_FORMAT_MASK (0xfu << GVT_CTL_FORMAT_SHIFT)
#define GVT_CTL_FORMAT(v) ((uint32_t)(v) << GVT_CTL_FORMAT_SHIFT)
#define GVT_FMT_YUV422 0
#define GVT_FMT_NV12 1
#define GVT_FMT_2101010 2
#define GVT_FMT_8888 4
#define GVT_FMT_INDEXED 12
#define GVT_FMT_565 14
#define GVT_CTL_ORDER_RGBX (1u << 20)
#define GVT_CTL_YUV_ORDER_SHIFT 16          /* PLANE_CTL_YUV422_ORDER_MASK */
#define GVT_CTL_YUV_ORDER_MASK (3u << GVT_CTL_YUV_ORDER_SHIFT)
#define GVT_CTL_TILED_SHIFT 10              /* PLANE_CTL_TILED_MASK */
#define GVT_CTL_TILED_MASK (7u << GVT_CTL_TILED_SHIFT)
#define GVT_CTL_ALPHA_MASK (3u << 4)        /* PLANE_CTL_ALPHA_MASK */
#define GVT_CTL_ALPHA_SW_PREMULTIPLY (2u << 4)
#define GVT_STRIDE_MASK 0x3ffu              /* _PRI_PLANE_STRIDE_MASK >> 6 */

/* PLANE_CTL_TILED_* values */
enum { GVT_TILED_LINEAR = 0, GVT_TILED_X = 1, GVT_TILED_Y = 4,
       GVT_TILED_YF = 5 };

/*
 * What a guest i915 programs into PLANE_CTL for a format
 * (skl_plane_ctl_format, with the default premultiplied blend mode for
 * formats with alpha: PLANE_CTL_ALPHA_SW_PREMULTIPLY).
 */
static const struct {
    uint32_t fourcc;
    uint32_t ctl;
} gvt_ctl_formats[] = {
    { DRM_FORMAT_YUYV, GVT_CTL_FORMAT(GVT_FMT_YUV422) | 0u << 16 },
    { DRM_FORMAT_UYVY, GVT_CTL_FORMAT(GVT_FMT_YUV422) | 1u << 16 },
    { DRM_FORMAT_YVYU, GVT_CTL_FORMAT(GVT_FMT_YUV422) | 2u << 16 },
    { DRM_FORMAT_VYUY, GVT_CTL_FORMAT(GVT_FMT_YUV422) | 3u << 16 },
    { DRM_FORMAT_C8, GVT_CTL_FORMAT(GVT_FMT_INDEXED) },
    { DRM_FORMAT_RGB565, GVT_CTL_FORMAT(GVT_FMT_565) },
    { DRM_FORMAT_ABGR8888, GVT_CTL_FORMAT(GVT_FMT_8888) | GVT_CTL_ORDER_RGBX |
      GVT_CTL_ALPHA_SW_PREMULTIPLY },
    { DRM_FORMAT_XBGR8888, GVT_CTL_FORMAT(GVT_FMT_8888) | GVT_CTL_ORDER_RGBX },
    { DRM_FORMAT_ARGB8888, GVT_CTL_FORMAT(GVT_FMT_8888) |
      GVT_CTL_ALPHA_SW_PREMULTIPLY },
    { DRM_FORMAT_XRGB8888, GVT_CTL_FORMAT(GVT_FMT_8888) },
    { DRM_FORMAT_XBGR2101010, GVT_CTL_FORMAT(GVT_FMT_2101010) |
      GVT_CTL_ORDER_RGBX },
    { DRM_FORMAT_XRGB2101010, GVT_CTL_FORMAT(GVT_FMT_2101010) },
};

/* The primary plane as fb_decoder.c sees it from the registers */
typedef struct GvtPrimary {
    uint32_t fourcc;        /* 0: "Non-supported pixel format" */
    unsigned bpp;           /* bits, skl_pixel_formats[].bpp */
    uint64_t modifier;
    unsigned tile_rows;     /* vgpu_get_plane_info's tile_height */
    uint32_t stride;        /* intel_vgpu_get_stride */
} GvtPrimary;

/* struct intel_vgpu_fb_info: what a dma-buf object stands for */
typedef struct GvtFb {
    uint64_t start, start_gpa, size, drm_format_mod;
    uint32_t drm_format, width, height, stride;
    uint32_t x_pos, y_pos, x_hot, y_hot;
} GvtFb;

/* struct intel_vgpu_dmabuf_obj */
typedef struct GvtObj {
    GvtFb info;
    uint32_t id;
    int kref;
    bool initref;
    struct GvtObj *next;
} GvtObj;

typedef struct Gvt {
    const GvtType *type;
    int vgpu_id;                           /* intel_gvt_create_vgpu's idr */
    uint8_t cfg[GVT_CFG_SIZE];
    uint64_t bar2_size, slice_base;        /* aperture, the vGPU's part */
    int bar0_fd, gm_fd;                    /* MMIO scratch, low GM pages */
    bool pipe_active;
    struct {
        bool enabled;                      /* DISP_ENABLE */
        uint32_t ctl;                      /* PLANE_CTL: format, tiling */
        uint32_t stride_reg;               /* PLANE_STRIDE, in its units */
        uint64_t base;                     /* DSPSURF */
        uint32_t width, height;            /* PIPESRC + 1 */
        int buffer;                        /* which of the two, for flip */
    } pri;
    struct {
        unsigned mode;                     /* 0 off, else 64/128/256 */
        uint64_t base;
        uint32_t x_pos, y_pos;             /* magnitudes; signs apart */
        bool x_sign, y_sign;
        uint32_t x_hot, y_hot;             /* the PV info registers */
    } cur;
    struct vfio_region_gfx_edid edid_regs;
    uint8_t edid_blob[GVT_EDID_SIZE];
    uint8_t opregion[GVT_OPREGION_SIZE];
    GvtObj *objs;
    int cpu_mmap_errno;
} Gvt;

/* A valid EDID 1.4 base block with one detailed timing for @w x @h */
static void gvt_make_edid(uint8_t *e, uint32_t w, uint32_t h)
{
    static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0 };
    uint8_t *dtd = e + 54, sum = 0;
    uint32_t hb = 160, vb = 35, clock = (w + hb) * (h + vb) * 60 / 10000;
    int i;

    memset(e, 0, GVT_EDID_SIZE);
    memcpy(e, header, 8);
    sim_put_le16(e + 8, 0x7d4c);        /* "SIM" in 5-bit letters */
    e[18] = 1;
    e[19] = 4;
    e[20] = 0xa5;                       /* digital, 8 bits, DisplayPort */
    sim_put_le16(dtd, clock);
    dtd[2] = w & 0xff;
    dtd[3] = hb & 0xff;
    dtd[4] = (w >> 8) << 4 | hb >> 8;
    dtd[5] = h & 0xff;
    dtd[6] = vb & 0xff;
    dtd[7] = (h >> 8) << 4 | vb >> 8;
    dtd[8] = 48;
    dtd[9] = 32;
    dtd[10] = 3 << 4 | 5;
    dtd[17] = 0x1e;
    for (i = 0; i < 127; i++) {
        sum += e[i];
    }
    e[127] = -sum;
}

/* drm_edid_block_valid for a base block: header, version 1, checksum */
static bool gvt_edid_valid(const uint8_t *e)
{
    static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0 };
    uint8_t sum = 0;
    int i, score = 0;

    for (i = 0; i < 8; i++) {
        score += e[i] == header[i];
    }
    for (i = 0; i < GVT_EDID_SIZE; i++) {
        sum += e[i];
    }
    return score >= 6 && !sum && e[18] == 1;
}

static void gvt_config(Gvt *s, uint16_t device_id)
{
    uint8_t *c = s->cfg;

    sim_put_le16(c + PCI_VENDOR_ID, 0x8086);
    sim_put_le16(c + PCI_DEVICE_ID, device_id);
    sim_put_le16(c + PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
    sim_put_le16(c + PCI_SUBSYSTEM_ID, device_id);
    c[PCI_REVISION_ID] = 0x04;
    sim_put_le16(c + PCI_CLASS_DEVICE, 0x0300);     /* VGA compatible */
    sim_put_le32(c + PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64);
    sim_put_le32(c + PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_MEM_TYPE_64 |
             PCI_BASE_ADDRESS_MEM_PREFETCH);
    c[PCI_INTERRUPT_PIN] = 1;
}

/* the display registers after a reset: pipe A on, no plane enabled */
static void gvt_reset_display(Gvt *s)
{
    memset(&s->pri, 0, sizeof(s->pri));
    memset(&s->cur, 0, sizeof(s->cur));
    s->pipe_active = true;
    s->cur.x_hot = UINT_MAX;                   /* populate_pvinfo_page */
    s->cur.y_hot = UINT_MAX;
}

static int gvt_vgpus;                      /* vGPUs made so far */

static int gvt_init(SimDevice *dev, char *err, size_t errlen)
{
    const char *tname = sim_opt(dev, "type", "GVTg_V5_4");
    const char *did = sim_opt(dev, "device-id", "0x5912");
    Gvt *s = calloc(1, sizeof(*s));
    size_t i;

    for (i = 0; i < sizeof(gvt_types) / sizeof(gvt_types[0]); i++) {
        if (!strcmp(gvt_types[i].name, tname)) {
            s->type = &gvt_types[i];
        }
    }
    if (!s->type) {
        snprintf(err, errlen, "gvt has no type '%s' (GVTg_V5_8, GVTg_V5_4)",
                 tname);
        free(s);
        return -EINVAL;
    }
    /* i915 6.1: a vGPU framebuffer object has no shmem to map: -ENODEV */
    s->cpu_mmap_errno = sim_opt_cpu_mmap_errno(dev, ENODEV, err, errlen);
    if (s->cpu_mmap_errno < 0) {
        free(s);
        return -EINVAL;
    }
    /* idr_alloc from 1 (IDLE_VGPU_IDR + 1): no id is freed before */
    s->vgpu_id = ++gvt_vgpus;
    s->bar2_size = GVT_APERTURE_SIZE;
    s->slice_base = GVT_HOST_LOW_GM;
    s->bar0_fd = sim_memfd("vfio-sim-gvt-mmio", GVT_BAR0_SIZE);
    s->gm_fd = sim_memfd("vfio-sim-gvt-gm", s->type->low_gm);
    gvt_config(s, strtoul(did, NULL, 0));
    gvt_reset_display(s);
    memcpy(s->opregion, "IntelGraphicsMem", 16);   /* OPREGION_SIGNATURE */
    s->edid_regs.edid_offset = GVT_EDID_BLOB_OFFSET;
    s->edid_regs.edid_max_size = GVT_EDID_SIZE;
    s->edid_regs.edid_size = GVT_EDID_SIZE;
    s->edid_regs.max_xres = s->type->edid_x;
    s->edid_regs.max_yres = s->type->edid_y;
    gvt_make_edid(s->edid_blob, s->type->edid_x, s->type->edid_y);
    dev->state = s;
    return 0;
}

/* vgpu_gmadr_is_valid / intel_gvt_ggtt_validate_range, low GM only */
static bool gvt_gm_valid(Gvt *s, uint64_t start, uint64_t size)
{
    return start >= s->slice_base &&
           start - s->slice_base < s->type->low_gm &&
           size <= s->type->low_gm - (start - s->slice_base);
}

/* ---- config space, BARs, regions ------------------------------------- */

/* intel_vgpu_emulate_cfg_write, the parts a VMM touches */
static void gvt_cfg_write(Gvt *s, uint64_t off, const uint8_t *buf,
                          size_t count)
{
    uint64_t size = off == PCI_BASE_ADDRESS_0 ? GVT_BAR0_SIZE :
                    off == PCI_BASE_ADDRESS_2 ? s->bar2_size : 0;
    uint32_t v;

    if (off == PCI_COMMAND && count == 2) {
        memcpy(s->cfg + off, buf, 2);
    } else if (size && count == 4) {
        memcpy(&v, buf, 4);
        v &= ~(uint32_t)(size - 1);
        v |= s->cfg[off] & 0xf;
        sim_put_le32(s->cfg + off, v);
    } else if ((off == PCI_BASE_ADDRESS_1 || off == PCI_BASE_ADDRESS_3) &&
               count == 4) {
        memcpy(s->cfg + off, buf, 4);
    }
}

/* intel_vgpu_reg_rw_edid: handle_edid_regs and handle_edid_blob */
static int gvt_edid_rw(SimDevice *dev, uint8_t *buf, size_t count,
                       uint64_t pos, bool is_write)
{
    Gvt *s = dev->state;
    struct vfio_region_gfx_edid *r = &s->edid_regs;
    uint32_t data;

    if (pos >= r->edid_offset) {
        pos -= GVT_EDID_BLOB_OFFSET;
        if (pos + count > r->edid_size) {
            return -EINVAL;
        }
        if (is_write) {
            memcpy(s->edid_blob + pos, buf, count);
        } else {
            memcpy(buf, s->edid_blob + pos, count);
        }
        return count;
    }
    if (pos + count > sizeof(*r) || count != 4) {
        return -EINVAL;
    }
    if (!is_write) {
        memcpy(buf, (uint8_t *)r + pos, count);
        return count;
    }
    memcpy(&data, buf, 4);
    switch (pos) {
    case offsetof(struct vfio_region_gfx_edid, link_state):
        if (data == VFIO_DEVICE_GFX_LINK_STATE_UP) {
            if (!gvt_edid_valid(s->edid_blob)) {
                sim_count(dev, "gvt-edid-invalid");
                return -EINVAL;
            }
            sim_count(dev, "gvt-hotplug-up");
        } else if (data == VFIO_DEVICE_GFX_LINK_STATE_DOWN) {
            sim_count(dev, "gvt-hotplug-down");
        } else {
            return -EINVAL;
        }
        r->link_state = data;
        return count;
    case offsetof(struct vfio_region_gfx_edid, edid_size):
        if (data > r->edid_max_size) {
            return -EINVAL;
        }
        r->edid_size = data;
        return count;
    default:
        return -EPERM;                          /* read-only registers */
    }
}

/* One access of the chunked loop intel_vgpu_read/write run */
static int gvt_access(SimDevice *dev, void *buf, size_t count, uint64_t ppos,
                      bool is_write)
{
    Gvt *s = dev->state;
    unsigned index = ppos >> GVT_OFFSET_SHIFT;
    uint64_t pos = ppos & GVT_OFFSET_MASK;
    ssize_t n;

    switch (index) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        if (pos + count > GVT_CFG_SIZE) {
            return -EINVAL;
        }
        if (is_write) {
            gvt_cfg_write(s, pos, buf, count);
        } else {
            memcpy(buf, s->cfg + pos, count);
        }
        return count;
    case VFIO_PCI_BAR0_REGION_INDEX:
        if (pos + count > GVT_BAR0_SIZE) {
            return -EINVAL;
        }
        n = is_write ? pwrite(s->bar0_fd, buf, count, pos) :
                       pread(s->bar0_fd, buf, count, pos);
        return n == (ssize_t)count ? (int)count : -EIO;
    case VFIO_PCI_BAR2_REGION_INDEX:
        /*
         * intel_vgpu_aperture_rw checks intel_vgpu_in_aperture(off + count)
         * too, so an access ending at the slice's end fails (6.1 code).
         */
        if (pos < s->slice_base || pos + count < s->slice_base ||
            pos + count >= s->slice_base + s->type->low_gm) {
            sim_count(dev, "gvt-aperture-rw-refused");
            return -EINVAL;
        }
        pos -= s->slice_base;
        n = is_write ? pwrite(s->gm_fd, buf, count, pos) :
                       pread(s->gm_fd, buf, count, pos);
        return n == (ssize_t)count ? (int)count : -EIO;
    case GVT_OPREGION_INDEX:
        /* intel_vgpu_reg_rw_opregion: read-only, clipped to its size */
        if (pos >= GVT_OPREGION_SIZE || is_write) {
            return -EINVAL;
        }
        if (count > GVT_OPREGION_SIZE - pos) {
            count = GVT_OPREGION_SIZE - pos;
        }
        memcpy(buf, s->opregion + pos, count);
        return count;
    case GVT_EDID_INDEX:
        return gvt_edid_rw(dev, buf, count, pos, is_write);
    case VFIO_PCI_BAR1_REGION_INDEX:
    case VFIO_PCI_BAR3_REGION_INDEX:
    case VFIO_PCI_BAR4_REGION_INDEX:
    case VFIO_PCI_BAR5_REGION_INDEX:
    case VFIO_PCI_ROM_REGION_INDEX:
    case VFIO_PCI_VGA_REGION_INDEX:
        /* "break; ... return ret == 0 ? count : ret" with ret = -EINVAL */
        return -EINVAL;
    default:
        return -EINVAL;
    }
}

static ssize_t gvt_rw(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                      bool is_write)
{
    if ((pos >> GVT_OFFSET_SHIFT) >= GVT_NUM_REGIONS) {
        return -EINVAL;
    }
    return sim_chunked_rw(dev, buf, count, pos, is_write, gvt_access);
}

/* intel_vgpu_mmap: BAR2 only, shared, inside the vGPU's aperture slice */
static int gvt_mmap(SimDevice *dev, uint64_t offset, size_t len, int flags,
                    int *backing_fd, off_t *backing_off)
{
    Gvt *s = dev->state;
    unsigned index = offset >> GVT_OFFSET_SHIFT;
    uint64_t start = offset & GVT_OFFSET_MASK;

    if (index >= VFIO_PCI_ROM_REGION_INDEX || !(flags & MAP_SHARED) ||
        index != VFIO_PCI_BAR2_REGION_INDEX) {
        return -EINVAL;
    }
    if (start < s->slice_base || start >= s->slice_base + s->type->low_gm ||
        start + len > s->slice_base + s->type->low_gm) {
        return -EINVAL;
    }
    *backing_fd = s->gm_fd;
    *backing_off = start - s->slice_base;
    return 0;
}

/* the VFIO_DEVICE_GET_REGION_INFO branch of intel_vgpu_ioctl */
static long gvt_region_info(Gvt *s, struct vfio_region_info *info)
{
    struct vfio_region_info_cap_sparse_mmap *sparse;
    struct vfio_region_info_cap_type *type;
    uint8_t caps[64];
    size_t capsz = 0;

    if (info->argsz < sizeof(*info)) {
        return -EINVAL;
    }
    memset(caps, 0, sizeof(caps));
    info->offset = GVT_INDEX_TO_OFFSET(info->index);
    info->cap_offset = 0;
    switch (info->index) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        info->size = GVT_CFG_SIZE;
        info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        break;
    case VFIO_PCI_BAR0_REGION_INDEX:
        info->size = GVT_BAR0_SIZE;
        info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        break;
    case VFIO_PCI_BAR2_REGION_INDEX:
        info->size = s->bar2_size;
        info->flags = VFIO_REGION_INFO_FLAG_CAPS | VFIO_REGION_INFO_FLAG_MMAP |
                      VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        sparse = (void *)caps;
        sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
        sparse->header.version = 1;
        sparse->nr_areas = 1;
        sparse->areas[0].offset = s->slice_base;
        sparse->areas[0].size = s->type->low_gm;
        capsz = sizeof(*sparse) + sizeof(sparse->areas[0]);
        break;
    case GVT_OPREGION_INDEX:
    case GVT_EDID_INDEX:
        type = (void *)caps;
        type->header.id = VFIO_REGION_INFO_CAP_TYPE;
        type->header.version = 1;
        if (info->index == GVT_OPREGION_INDEX) {
            type->type = VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0x8086;
            type->subtype = VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION;
            info->size = GVT_OPREGION_SIZE;
            info->flags = VFIO_REGION_INFO_FLAG_READ;
        } else {
            type->type = VFIO_REGION_TYPE_GFX;
            type->subtype = VFIO_REGION_SUBTYPE_GFX_EDID;
            info->size = GVT_EDID_SIZE;
            info->flags = VFIO_REGION_INFO_FLAG_READ |
                          VFIO_REGION_INFO_FLAG_WRITE |
                          VFIO_REGION_INFO_FLAG_CAPS;
        }
        capsz = sizeof(*type);
        break;
    default:
        if (info->index >= GVT_NUM_REGIONS) {
            return -EINVAL;
        }
        info->size = 0;                 /* BAR1, BAR3-5, ROM, VGA */
        info->flags = 0;
    }
    if (capsz) {
        info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
        if (info->argsz < sizeof(*info) + capsz) {
            info->argsz = sizeof(*info) + capsz;
        } else {
            memcpy(info + 1, caps, capsz);
            info->cap_offset = sizeof(*info);
        }
    }
    return 0;
}

/* vfio_set_irqs_validate_and_prepare + intel_vgpu_set_irqs */
static long gvt_set_irqs(struct vfio_irq_set *hdr)
{
    unsigned max = hdr->index <= VFIO_PCI_MSI_IRQ_INDEX ? 1 : 0;
    uint32_t action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    uint32_t data = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

    if (hdr->argsz < offsetof(struct vfio_irq_set, count) +
        sizeof(hdr->count)) {
        return -EINVAL;
    }
    if (data != VFIO_IRQ_SET_DATA_NONE) {
        if (hdr->index >= VFIO_PCI_NUM_IRQS ||
            (hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
                            VFIO_IRQ_SET_ACTION_TYPE_MASK)) ||
            __builtin_popcount(data) != 1 || __builtin_popcount(action) != 1 ||
            !max || hdr->start >= max || hdr->count > max - hdr->start) {
            return -EINVAL;
        }
    }
    if (hdr->index == VFIO_PCI_INTX_IRQ_INDEX &&
        (action == VFIO_IRQ_SET_ACTION_MASK ||
         action == VFIO_IRQ_SET_ACTION_UNMASK ||
         action == VFIO_IRQ_SET_ACTION_TRIGGER)) {
        return 0;           /* the INTx handlers of 6.1 do nothing */
    }
    if (hdr->index == VFIO_PCI_MSI_IRQ_INDEX &&
        action == VFIO_IRQ_SET_ACTION_TRIGGER) {
        return 0;           /* the eventfd is kept; no guest raises MSIs */
    }
    return -ENOTTY;
}

/* ---- planes and dma-bufs (fb_decoder.c, dmabuf.c) --------------------- */

/*
 * skl_format_to_drm + skl_pixel_formats: the format PLANE_CTL names, 0 for
 * one the table does not hold (NV12, P0xx, FP16, XYUV...).
 */
static uint32_t gvt_decode_format(uint32_t ctl, unsigned *bpp)
{
    bool rgbx = ctl & GVT_CTL_ORDER_RGBX, alpha = ctl & GVT_CTL_ALPHA_MASK;
    static const uint32_t yuv[] = { DRM_FORMAT_YUYV, DRM_FORMAT_UYVY,
                                    DRM_FORMAT_YVYU, DRM_FORMAT_VYUY };

    switch ((ctl & GVT_CTL_FORMAT_MASK) >> GVT_CTL_FORMAT_SHIFT) {
    case GVT_FMT_INDEXED:
        *bpp = 8;
        return DRM_FORMAT_C8;
    case GVT_FMT_565:
        *bpp = 16;
        return DRM_FORMAT_RGB565;
    case GVT_FMT_8888:
        *bpp = 32;
        return rgbx ? (alpha ? DRM_FORMAT_ABGR8888 : DRM_FORMAT_XBGR8888) :
                      (alpha ? DRM_FORMAT_ARGB8888 : DRM_FORMAT_XRGB8888);
    case GVT_FMT_2101010:
        *bpp = 32;                  /* the alpha bits are not looked at */
        return rgbx ? DRM_FORMAT_XBGR2101010 : DRM_FORMAT_XRGB2101010;
    case GVT_FMT_YUV422:
        *bpp = 16;
        return yuv[(ctl & GVT_CTL_YUV_ORDER_MASK) >> GVT_CTL_YUV_ORDER_SHIFT];
    default:
        *bpp = 0;
        return 0;
    }
}

/*
 * The bytes one unit of PLANE_STRIDE stands for (intel_vgpu_get_stride,
 * gen9+): linear 64, X 512, Y 128, Yf 64 for 8 bpp and 128 for 16, 32
 * and 64 bpp; any other tiling value leaves the register's raw number.
 */
static unsigned gvt_stride_unit(unsigned tiled, unsigned bpp)
{
    switch (tiled) {
    case GVT_TILED_LINEAR:
        return 64;
    case GVT_TILED_X:
        return 512;
    case GVT_TILED_Y:
        return 128;
    case GVT_TILED_YF:
        return bpp == 8 ? 64 : bpp == 16 || bpp == 32 || bpp == 64 ? 128 : 1;
    default:
        return 1;
    }
}

/*
 * intel_vgpu_decode_primary_plane and the tiling switch of
 * vgpu_get_plane_info: modifier and tile height by tiling (Yf: 32 rows
 * whatever the bpp), and "invalid tiling mode" left linear with one row.
 */
static void gvt_decode_primary(const Gvt *s, GvtPrimary *p)
{
    unsigned tiled = (s->pri.ctl & GVT_CTL_TILED_MASK) >> GVT_CTL_TILED_SHIFT;

    p->fourcc = gvt_decode_format(s->pri.ctl, &p->bpp);
    p->stride = (s->pri.stride_reg & GVT_STRIDE_MASK) *
                gvt_stride_unit(tiled, p->bpp);
    switch (tiled) {
    case GVT_TILED_X:
        p->modifier = I915_FORMAT_MOD_X_TILED;
        p->tile_rows = 8;
        break;
    case GVT_TILED_Y:
        p->modifier = I915_FORMAT_MOD_Y_TILED;
        p->tile_rows = 32;
        break;
    case GVT_TILED_YF:
        p->modifier = I915_FORMAT_MOD_Yf_TILED;
        p->tile_rows = 32;
        break;
    default:
        p->modifier = DRM_FORMAT_MOD_LINEAR;
        p->tile_rows = 1;
    }
}

/* vgpu_get_plane_info with the decoders; 0, -ENODEV, -EINVAL, -EFAULT */
static int gvt_plane_info(Gvt *s, uint32_t plane, GvtFb *info)
{
    GvtPrimary pri;
    unsigned rows = 1;

    memset(info, 0, sizeof(*info));
    if (plane == DRM_PLANE_TYPE_PRIMARY) {
        if (!s->pipe_active || !s->pri.enabled) {
            return -ENODEV;
        }
        gvt_decode_primary(s, &pri);
        if (!pri.fourcc) {
            return -EINVAL;                 /* "Non-supported pixel format" */
        }
        if (!gvt_gm_valid(s, s->pri.base, 1)) {
            return -EINVAL;
        }
        info->start = s->pri.base;
        info->start_gpa = s->pri.base;      /* a GPA of our own choosing */
        info->width = s->pri.width;
        info->height = s->pri.height;
        info->stride = pri.stride;
        info->drm_format = pri.fourcc;
        info->drm_format_mod = pri.modifier;
        rows = pri.tile_rows;
    } else if (plane == DRM_PLANE_TYPE_CURSOR) {
        if (!s->pipe_active || !s->cur.mode) {
            return -ENODEV;
        }
        if (!gvt_gm_valid(s, s->cur.base, 1)) {
            return -EINVAL;
        }
        info->start = s->cur.base;
        info->start_gpa = s->cur.base;
        info->width = s->cur.mode;
        info->height = s->cur.mode;
        info->stride = s->cur.mode * 4;
        info->drm_format = DRM_FORMAT_ARGB8888;
        /* the sign bits are decoded but not reported (fb_decoder.c) */
        info->x_pos = s->cur.x_pos;
        info->y_pos = s->cur.y_pos;
        if (s->cur.x_hot <= info->width && s->cur.y_hot <= info->height) {
            info->x_hot = s->cur.x_hot;
            info->y_hot = s->cur.y_hot;
        } else {
            info->x_hot = UINT_MAX;
            info->y_hot = UINT_MAX;
        }
    } else {
        return -EINVAL;
    }
    /* u32 arithmetic as in the kernel's struct intel_vgpu_fb_info */
    info->size = (uint32_t)(info->stride * ((info->height + rows - 1) /
                                            rows * rows));
    if (!info->size) {
        return -EINVAL;
    }
    if (info->start & (SIM_PAGE_SIZE - 1)) {
        return -EFAULT;
    }
    if (!gvt_gm_valid(s, info->start, info->size)) {
        return -EFAULT;
    }
    return 0;
}

static GvtObj *gvt_obj_by_info(Gvt *s, const GvtFb *f)
{
    GvtObj *o;

    for (o = s->objs; o; o = o->next) {
        if (o->info.start == f->start && o->info.start_gpa == f->start_gpa &&
            o->info.size == f->size &&
            o->info.drm_format_mod == f->drm_format_mod &&
            o->info.drm_format == f->drm_format &&
            o->info.width == f->width && o->info.height == f->height) {
            return o;
        }
    }
    return NULL;
}

static GvtObj *gvt_obj_by_id(Gvt *s, uint32_t id)
{
    GvtObj *o;

    for (o = s->objs; o; o = o->next) {
        if (o->id == id) {
            return o;
        }
    }
    return NULL;
}

/* dmabuf_gem_object_free once the last reference goes: the id is free */
static void gvt_obj_put(SimDevice *dev, GvtObj *obj)
{
    Gvt *s = dev->state;
    GvtObj **pp;

    if (--obj->kref > 0) {
        return;
    }
    for (pp = &s->objs; *pp; pp = &(*pp)->next) {
        if (*pp == obj) {
            *pp = obj->next;
            break;
        }
    }
    sim_count(dev, "gvt-dmabuf-obj-freed");
    free(obj);
}

static void gvt_fill_plane(struct vfio_device_gfx_plane_info *p,
                           const GvtFb *f)
{
    p->drm_format = f->drm_format;
    p->drm_format_mod = f->drm_format_mod;
    p->width = f->width;
    p->height = f->height;
    p->stride = f->stride;
    p->size = f->size;
    p->x_pos = f->x_pos;
    p->y_pos = f->y_pos;
    p->x_hot = f->x_hot;
    p->y_hot = f->y_hot;
}

/* intel_vgpu_query_plane */
static long gvt_query_plane(SimDevice *dev,
                            struct vfio_device_gfx_plane_info *p)
{
    Gvt *s = dev->state;
    GvtObj *obj;
    GvtFb info;
    uint32_t id;
    int ret;

    if (p->argsz < offsetof(struct vfio_device_gfx_plane_info, dmabuf_id) +
        sizeof(p->dmabuf_id)) {
        return -EINVAL;
    }
    if (p->flags == (VFIO_GFX_PLANE_TYPE_DMABUF | VFIO_GFX_PLANE_TYPE_PROBE)) {
        return 0;
    }
    if ((p->flags & ~VFIO_GFX_PLANE_TYPE_DMABUF) || !p->flags) {
        return -EINVAL;
    }
    ret = gvt_plane_info(s, p->drm_plane_type, &info);
    if (ret == -ENODEV) {
        /* "plane isn't ready": success, the caller's struct untouched */
        sim_count(dev, "gvt-query-plane-off");
        return 0;
    }
    if (ret) {
        return ret;
    }
    obj = gvt_obj_by_info(s, &info);
    if (obj) {
        gvt_fill_plane(p, &info);
        p->dmabuf_id = obj->id;
        if (!obj->initref) {
            obj->initref = true;
            obj->kref++;
        }
        return 0;
    }
    /* idr_alloc(.., 1, 0): the lowest id >= 1 not in use */
    for (id = 1; gvt_obj_by_id(s, id); id++) {
        /* next */
    }
    obj = calloc(1, sizeof(*obj));
    obj->info = info;
    obj->id = id;
    obj->initref = true;
    obj->kref = 1;
    obj->next = s->objs;
    s->objs = obj;
    gvt_fill_plane(p, &info);
    p->dmabuf_id = id;
    sim_count(dev, "gvt-dmabuf-obj-created");
    return 0;
}

/* intel_vgpu_get_dmabuf: a new GEM object and dma-buf on every call */
static long gvt_get_dmabuf(SimDevice *dev, uint32_t id)
{
    Gvt *s = dev->state;
    GvtObj *obj = gvt_obj_by_id(s, id);
    SimDmabuf d;
    int fd;

    if (!obj) {
        sim_count(dev, "gvt-get-invalid-id");
        return -EINVAL;
    }
    d.dev = dev;
    d.priv = obj;
    d.backing_fd = s->gm_fd;
    d.offset = obj->info.start - s->slice_base;
    d.size = (obj->info.size + SIM_PAGE_SIZE - 1) &
             ~(uint64_t)(SIM_PAGE_SIZE - 1);
    d.cpu_mmap_errno = s->cpu_mmap_errno;
    d.fd_flags = O_CLOEXEC;                 /* DRM_CLOEXEC | DRM_RDWR */
    fd = sim_dmabuf_fd(&d);
    if (fd < 0) {
        return fd;
    }
    obj->kref++;
    if (obj->initref) {
        obj->initref = false;
        gvt_obj_put(dev, obj);
    }
    sim_count(dev, "gvt-dmabuf-fds");
    return fd;
}

/* vgpu_gem_release: each dma-buf holds one reference */
static void gvt_dmabuf_release(SimDevice *dev, void *priv)
{
    gvt_obj_put(dev, priv);
}

/* intel_vgpu_close_device -> intel_vgpu_dmabuf_cleanup */
static void gvt_close_device(SimDevice *dev)
{
    Gvt *s = dev->state;
    GvtObj *o, *next;

    for (o = s->objs; o; o = next) {
        next = o->next;
        /* unlinked now; exported ones live on as orphans */
        o->next = NULL;
        if (o->initref) {
            o->initref = false;
            if (!--o->kref) {
                free(o);
            }
        }
    }
    s->objs = NULL;
}

static long gvt_ioctl(SimDevice *dev, unsigned long req, void *arg)
{
    Gvt *s = dev->state;
    struct vfio_device_info *info = arg;
    struct vfio_irq_info *irq = arg;

    switch (req) {
    case VFIO_DEVICE_GET_INFO:
        if (info->argsz < offsetof(struct vfio_device_info, num_irqs) +
            sizeof(info->num_irqs)) {
            return -EINVAL;
        }
        info->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
        info->num_regions = GVT_NUM_REGIONS;
        info->num_irqs = VFIO_PCI_NUM_IRQS;
        return 0;
    case VFIO_DEVICE_GET_REGION_INFO:
        return gvt_region_info(s, arg);
    case VFIO_DEVICE_GET_IRQ_INFO:
        if (irq->argsz < offsetof(struct vfio_irq_info, count) +
            sizeof(irq->count) || irq->index > VFIO_PCI_MSI_IRQ_INDEX) {
            return -EINVAL;
        }
        irq->flags = VFIO_IRQ_INFO_EVENTFD;
        irq->flags |= irq->index == VFIO_PCI_INTX_IRQ_INDEX ?
                      VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED :
                      VFIO_IRQ_INFO_NORESIZE;
        irq->count = 1;
        return 0;
    case VFIO_DEVICE_SET_IRQS:
        return gvt_set_irqs(arg);
    case VFIO_DEVICE_RESET:
        gvt_reset_display(s);
        sim_count(dev, "gvt-reset");
        return 0;
    case VFIO_DEVICE_QUERY_GFX_PLANE:
        return gvt_query_plane(dev, arg);
    case VFIO_DEVICE_GET_GFX_DMABUF:
        return gvt_get_dmabuf(dev, *(uint32_t *)arg);
    }
    return -ENOTTY;
}

/* ---- the control socket's view --------------------------------------- */

static int gvt_memory(SimDevice *dev, int *fd, uint64_t *size)
{
    Gvt *s = dev->state;

    *fd = s->gm_fd;
    *size = s->type->low_gm;
    return 0;
}

static uint64_t gvt_frame_size(Gvt *s);

static int gvt_scanout(SimDevice *dev, SimScanout *out)
{
    Gvt *s = dev->state;
    GvtPrimary p;

    gvt_decode_primary(s, &p);
    /*
     * The whole frame inside the vGPU's graphics memory, as the query's
     * intel_gvt_ggtt_validate_range wants it: a guest cannot draw past its
     * memory (and the memfd behind it ends there: SIGBUS)
     */
    if (!s->pipe_active || !s->pri.enabled || !p.fourcc ||
        !gvt_gm_valid(s, s->pri.base, gvt_frame_size(s))) {
        return -ENODEV;
    }
    out->fd = s->gm_fd;
    out->offset = s->pri.base - s->slice_base;
    out->fourcc = p.fourcc;
    out->modifier = p.modifier;
    out->width = s->pri.width;
    out->height = s->pri.height;
    out->stride = p.stride;
    return 0;
}

/* the bytes the current primary plane spans, as vgpu_get_plane_info says */
static uint64_t gvt_frame_size(Gvt *s)
{
    GvtPrimary p;

    gvt_decode_primary(s, &p);
    return (uint64_t)p.stride * ((s->pri.height + p.tile_rows - 1) /
                                 p.tile_rows * p.tile_rows);
}

/* where buffer @n of the current primary layout starts (GMA) */
static uint64_t gvt_buffer_gma(Gvt *s, int n)
{
    uint64_t size = gvt_frame_size(s);

    return s->slice_base + n * ((size + 0xfffff) & ~0xfffffull);
}

static int gvt_draw_primary(SimDevice *dev, const char *pattern, char *reply,
                            size_t len)
{
    SimScanout sc;

    if (!pattern) {
        return 0;
    }
    if (gvt_scanout(dev, &sc) < 0 ||
        sim_draw(&sc, 0, 0, sc.width, sc.height, pattern) < 0) {
        snprintf(reply, len, "cannot draw '%s' into this plane", pattern);
        return -EINVAL;
    }
    return 0;
}

/* PLANE_CTL's format bits for @fourcc; NV12's (undecodable) if none */
static uint32_t gvt_ctl_format(uint32_t fourcc)
{
    size_t i;

    for (i = 0; i < sizeof(gvt_ctl_formats) / sizeof(gvt_ctl_formats[0]);
         i++) {
        if (gvt_ctl_formats[i].fourcc == fourcc) {
            return gvt_ctl_formats[i].ctl;
        }
    }
    return GVT_CTL_FORMAT(GVT_FMT_NV12);
}

/* modifier=linear|x|y|yf or the raw PLANE_CTL tiling field 0..7 */
static bool gvt_parse_tiling(const SimArgs *a, unsigned *tiled)
{
    static const struct {
        const char *name;
        unsigned tiled;
    } names[] = {
        { "linear", GVT_TILED_LINEAR }, { "x", GVT_TILED_X },
        { "y", GVT_TILED_Y }, { "yf", GVT_TILED_YF },
    };
    const char *mod = sim_arg(a, "modifier", "linear");
    uint64_t raw;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(mod, names[i].name)) {
            *tiled = names[i].tiled;
            return true;
        }
    }
    if (sim_arg_u64(a, "modifier", &raw) && raw <= 7) {
        *tiled = raw;
        return true;
    }
    return false;
}

/*
 * present: program the primary plane as a guest driver does (PLANE_CTL
 * format and tiling, PLANE_STRIDE, PIPESRC, DSPSURF) and optionally draw
 * into it.
 */
static int gvt_present(SimDevice *dev, const SimArgs *a, char *reply,
                       size_t len)
{
    Gvt *s = dev->state;
    const char *fmt = sim_arg(a, "format", "XRGB8888");
    uint64_t w = 0, h = 0, stride = 0, gma = 0, buffer = 0, raw, pixels;
    unsigned tiled, bits, unit;
    uint32_t fourcc = sim_format_by_name(fmt), ctl;

    if (!fourcc && !sim_arg_u64(a, "format", &raw)) {
        snprintf(reply, len, "unknown format '%s'", fmt);
        return -EINVAL;
    }
    /* a raw fourcc the plane cannot hold programs NV12: "no format" */
    ctl = gvt_ctl_format(fourcc ? fourcc : raw);
    if (!gvt_parse_tiling(a, &tiled)) {
        snprintf(reply, len, "modifier: linear, x, y, yf or 0..7");
        return -EINVAL;
    }
    if (!sim_arg_u64(a, "width", &w) || !sim_arg_u64(a, "height", &h) ||
        !w || !h || w > 8192 || h > 8192) {
        snprintf(reply, len, "width and height: 1 to 8192 (PIPESRC)");
        return -EINVAL;
    }
    pixels = gvt_decode_format(ctl, &bits) ? w : 0;
    if (!pixels) {
        bits = 32;                  /* an undecodable format: any stride */
        pixels = w;
    } else if (sim_format_is_yuv(gvt_decode_format(ctl, &bits))) {
        pixels = (w + 1) & ~1ull;   /* whole 4:2:2 pixel pairs */
    }
    unit = gvt_stride_unit(tiled, bits);
    stride = (pixels * bits / 8 + unit - 1) / unit * unit;
    if (sim_arg(a, "stride", NULL) && !sim_arg_u64(a, "stride", &stride)) {
        stride = 0;
    }
    if (!stride || stride % unit || stride / unit > GVT_STRIDE_MASK) {
        snprintf(reply, len, "stride: a multiple of %u the plane register "
                 "holds", unit);
        return -EINVAL;
    }
    if (sim_arg(a, "buffer", NULL) &&
        (!sim_arg_u64(a, "buffer", &buffer) || buffer > 1)) {
        snprintf(reply, len, "buffer: 0 or 1");
        return -EINVAL;
    }
    s->pri.enabled = true;
    s->pri.ctl = ctl | tiled << GVT_CTL_TILED_SHIFT;
    s->pri.stride_reg = stride / unit;
    s->pri.width = w;
    s->pri.height = h;
    s->pri.buffer = buffer;
    if (!sim_arg(a, "gma", NULL)) {
        gma = gvt_buffer_gma(s, buffer);
    } else if (!sim_arg_u64(a, "gma", &gma)) {
        snprintf(reply, len, "gma: a number");
        return -EINVAL;
    }
    s->pri.base = gma & ~(uint64_t)(SIM_PAGE_SIZE - 1);  /* DSPSURF */
    sim_count(dev, "gvt-present");
    if (gvt_draw_primary(dev, sim_arg(a, "pattern", NULL), reply, len) < 0) {
        return -EINVAL;
    }
    snprintf(reply, len, "gma=0x%llx size=%llu",
             (unsigned long long)s->pri.base,
             (unsigned long long)gvt_frame_size(s));
    return 0;
}

static int gvt_cursor(SimDevice *dev, const SimArgs *a, char *reply,
                      size_t len)
{
    Gvt *s = dev->state;
    const char *size = sim_arg(a, "size", NULL);
    const char *pattern = sim_arg(a, "pattern", NULL);
    SimScanout sc;
    uint64_t v;
    long long pos;

    if (size && !strcmp(size, "off")) {
        s->cur.mode = 0;
    } else if (size) {
        if (!sim_arg_u64(a, "size", &v) || (v != 64 && v != 128 && v != 256)) {
            snprintf(reply, len, "size: 64, 128, 256 or off");
            return -EINVAL;
        }
        s->cur.mode = v;
        s->cur.base = s->slice_base + s->type->low_gm - GVT_CURSOR_SLOT;
    }
    if (sim_arg_u64(a, "gma", &v)) {
        s->cur.base = v & ~(uint64_t)(SIM_PAGE_SIZE - 1);
    }
    if (sim_arg(a, "x", NULL)) {
        pos = strtoll(sim_arg(a, "x", "0"), NULL, 0);
        s->cur.x_sign = pos < 0;
        s->cur.x_pos = (pos < 0 ? -pos : pos) & 0xfff;   /* CURPOS */
    }
    if (sim_arg(a, "y", NULL)) {
        pos = strtoll(sim_arg(a, "y", "0"), NULL, 0);
        s->cur.y_sign = pos < 0;
        s->cur.y_pos = (pos < 0 ? -pos : pos) & 0xfff;
    }
    if (sim_arg_u64(a, "hot_x", &v)) {
        s->cur.x_hot = v;
    }
    if (sim_arg_u64(a, "hot_y", &v)) {
        s->cur.y_hot = v;
    }
    if (pattern) {
        if (!s->cur.mode || !gvt_gm_valid(s, s->cur.base,
                                          s->cur.mode * s->cur.mode * 4)) {
            snprintf(reply, len, "no cursor image to draw into");
            return -EINVAL;
        }
        sc.fd = s->gm_fd;
        sc.offset = s->cur.base - s->slice_base;
        sc.fourcc = DRM_FORMAT_ARGB8888;
        sc.modifier = DRM_FORMAT_MOD_LINEAR;
        sc.width = sc.height = s->cur.mode;
        sc.stride = s->cur.mode * 4;
        if (sim_draw(&sc, 0, 0, sc.width, sc.height, pattern) < 0) {
            snprintf(reply, len, "cannot draw '%s'", pattern);
            return -EINVAL;
        }
    }
    sim_count(dev, "gvt-cursor");
    snprintf(reply, len, "gma=0x%llx", (unsigned long long)s->cur.base);
    return 0;
}

static int gvt_control(SimDevice *dev, const char *cmd, const SimArgs *a,
                       char *reply, size_t len)
{
    Gvt *s = dev->state;
    const char *v;

    if (!strcmp(cmd, "present")) {
        return gvt_present(dev, a, reply, len);
    }
    if (!strcmp(cmd, "edid")) {
        sim_edid_describe(&s->edid_regs, s->edid_blob, reply, len);
        return 0;
    }
    if (!strcmp(cmd, "cursor")) {
        return gvt_cursor(dev, a, reply, len);
    }
    if (!strcmp(cmd, "flip")) {
        if (!s->pri.enabled) {
            snprintf(reply, len, "no primary plane to flip");
            return -EINVAL;
        }
        s->pri.buffer ^= 1;
        s->pri.base = gvt_buffer_gma(s, s->pri.buffer);
        sim_count(dev, "gvt-flip");
        if (gvt_draw_primary(dev, sim_arg(a, "pattern", NULL), reply,
                             len) < 0) {
            return -EINVAL;
        }
        snprintf(reply, len, "buffer=%d gma=0x%llx", s->pri.buffer,
                 (unsigned long long)s->pri.base);
        return 0;
    }
    if (!strcmp(cmd, "plane")) {
        v = sim_arg(a, "primary", NULL);
        if (v) {
            s->pri.enabled = strcmp(v, "off");
        }
        v = sim_arg(a, "pipe", NULL);
        if (v) {
            s->pipe_active = strcmp(v, "off");
        }
        return 0;
    }
    return -ENOENT;
}

/*
 * The parent intel_gvt_init_device registers: the i915 PCI device, at
 * 00:02.0 as an Intel IGD is; dev_driver_string() is its driver's name.
 */
static const SimMdevParent gvt_parent = {
    .path = "devices/pci0000:00/0000:00:02.0",
    .class_name = NULL,
    .driver_string = "i915",
    .driver = "intel_vgpu_mdev",        /* intel_vgpu_mdev_driver */
    .group = "intel_vgpu",              /* intel_vgpu_group */
    .ntypes = sizeof(gvt_types) / sizeof(gvt_types[0]),
};

static int64_t gvt_avail(int64_t total, int64_t used, int64_t each)
{
    return total > used ? (total - used) / each : 0;
}

/*
 * gvt->types[i]: sysfs_name, no pretty_name; intel_vgpu_show_description;
 * intel_vgpu_get_available: the least of the low GM, high GM and fences
 * left (each vGPU takes its type's, intel_vgpu_alloc_resource) over the
 * type's.
 */
static void gvt_mdev_type(int i, SimDevice *const *devs, int n,
                          SimMdevType *t)
{
    const GvtType *type = &gvt_types[i];
    int64_t low = 0, high = 0, fence = 0, a, b, c;
    int j;

    for (j = 0; j < n; j++) {
        const GvtType *used = ((Gvt *)devs[j]->state)->type;

        low += used->low_gm;
        high += used->high_gm;
        fence += used->fence;
    }
    snprintf(t->sysfs_name, sizeof(t->sysfs_name), "%s", type->name);
    snprintf(t->name, sizeof(t->name), "%s", type->name);
    /* vgpu_edid_str: "1024x768", "1920x1200" */
    snprintf(t->description, sizeof(t->description),
             "low_gm_size: %uMB\nhigh_gm_size: %uMB\nfence: %u\n"
             "resolution: %ux%u\nweight: %u\n",
             (unsigned)(type->low_gm >> 20), (unsigned)(type->high_gm >> 20),
             type->fence, type->edid_x, type->edid_y, type->weight);
    /* the simulator makes any device configured, even past the resources */
    a = gvt_avail(GVT_APERTURE_SIZE - GVT_HOST_LOW_GM_SIZE, low,
                  type->low_gm);
    b = gvt_avail(GVT_GGTT_SIZE - GVT_APERTURE_SIZE - GVT_HOST_HIGH_GM_SIZE,
                  high, type->high_gm);
    c = gvt_avail(GVT_FENCES - GVT_HOST_FENCE, fence, type->fence);
    t->available = a < b ? (a < c ? a : c) : (b < c ? b : c);
}

static int gvt_type_of(SimDevice *dev)
{
    return ((Gvt *)dev->state)->type - gvt_types;
}

/* intel_vgpu_attrs: vgpu_id_show */
static int gvt_attrs(SimDevice *dev, SimOpt *attrs, int max)
{
    snprintf(attrs[0].key, sizeof(attrs[0].key), "vgpu_id");
    snprintf(attrs[0].value, sizeof(attrs[0].value), "%d\n",
             ((Gvt *)dev->state)->vgpu_id);
    return 1;
}

const SimModelOps sim_model_gvt = {
    .name = "gvt",
    .parent = &gvt_parent,
    .mdev_type = gvt_mdev_type,
    .type_of = gvt_type_of,
    .attrs = gvt_attrs,
    .init = gvt_init,
    .ioctl = gvt_ioctl,
    .rw = gvt_rw,
    .mmap = gvt_mmap,
    .close_device = gvt_close_device,
    .dmabuf_release = gvt_dmabuf_release,
    .memory = gvt_memory,
    .scanout = gvt_scanout,
    .control = gvt_control,
};
