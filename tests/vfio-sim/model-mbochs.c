/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim model "mbochs": the kernel sample samples/vfio-mdev/mbochs.c of
 * Linux 6.1: bochs dispi registers in BAR2, VRAM in BAR0, a GFX EDID
 * region, and a dma-buf-only display plane decoded from the registers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <libdrm/drm_fourcc.h>
#include <linux/pci_regs.h>

#include "sim.h"

#define VBE_DISPI_INDEX_ID 0x0
#define VBE_DISPI_INDEX_XRES 0x1
#define VBE_DISPI_INDEX_YRES 0x2
#define VBE_DISPI_INDEX_BPP 0x3
#define VBE_DISPI_INDEX_ENABLE 0x4
#define VBE_DISPI_INDEX_VIRT_WIDTH 0x6
#define VBE_DISPI_INDEX_X_OFFSET 0x8
#define VBE_DISPI_INDEX_Y_OFFSET 0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_INDEX_COUNT 0xb
#define VBE_DISPI_ID5 0xB0C5
#define VBE_DISPI_ENABLED 0x01

#define MBOCHS_EDID_REGION_INDEX VFIO_PCI_NUM_REGIONS
#define MBOCHS_NUM_REGIONS (MBOCHS_EDID_REGION_INDEX + 1)
#define MBOCHS_CONFIG_SPACE_SIZE 0xff
#define MBOCHS_MMIO_BAR_OFFSET SIM_PAGE_SIZE
#define MBOCHS_MMIO_BAR_SIZE SIM_PAGE_SIZE
#define MBOCHS_EDID_OFFSET (MBOCHS_MMIO_BAR_OFFSET + MBOCHS_MMIO_BAR_SIZE)
#define MBOCHS_EDID_SIZE SIM_PAGE_SIZE
#define MBOCHS_MEMORY_BAR_OFFSET (MBOCHS_EDID_OFFSET + MBOCHS_EDID_SIZE)
#define MBOCHS_EDID_BLOB_OFFSET (MBOCHS_EDID_SIZE / 2)

typedef struct MbochsType {
    const char *name;
    uint32_t mbytes, max_x, max_y;
} MbochsType;

static const MbochsType mbochs_types[] = {
    { "small", 4, 800, 600 },
    { "medium", 16, 1920, 1440 },
    { "large", 64, 0, 0 },
};

/* struct mbochs_mode: compared whole (mbochs_modes_equal is a memcmp) */
typedef struct MbochsMode {
    uint32_t drm_format, bytepp, width, height, stride, pad;
    uint64_t offset, size;
} MbochsMode;

/* struct mbochs_dmabuf, with what the kernel's page refcounts do */
typedef struct MbochsBuf {
    MbochsMode mode;
    uint32_t id;
    bool exported;          /* dmabuf->buf != NULL */
    int fds_open;           /* fds dma_buf_fd() installed and not closed */
    bool pages_released;    /* mbochs_release_dmabuf put the pages */
    bool unlinked;
    int vram_fd;            /* the VRAM pages the buffer was made of */
    struct MbochsBuf *next;
} MbochsBuf;

typedef struct Mbochs {
    const MbochsType *type;
    uint8_t vconfig[256];
    uint32_t bar_mask[3];
    uint16_t vbe[VBE_DISPI_INDEX_COUNT];
    uint64_t memsize;
    int vram_fd;
    struct vfio_region_gfx_edid edid_regs;
    uint8_t edid_blob[0x400];
    MbochsBuf *bufs;
    uint32_t active_id, next_id;
    int cpu_mmap_errno;
} Mbochs;

/*
 * A consumer triggered one of the sample's refcounting bugs.  On a real
 * host it crashes the kernel; here it is counted, and unless
 * VFIO_SIM_KERNEL_BUGS=count it ends the process loudly.
 */
static void kernel_bug(SimDevice *dev, const char *counter, const char *what)
{
    const char *mode = getenv("VFIO_SIM_KERNEL_BUGS");

    sim_count(dev, counter);
    fprintf(stderr, "vfio-sim: mbochs %s: KERNEL BUG triggered: %s\n",
            dev->uuid, what);
    if (!mode || strcmp(mode, "count")) {
        abort();
    }
}

/* mbochs_create_config_space */
static void mbochs_config(Mbochs *s)
{
    uint8_t *c = s->vconfig;

    sim_put_le16(c + PCI_VENDOR_ID, 0x1234);
    sim_put_le16(c + PCI_DEVICE_ID, 0x1111);
    sim_put_le16(c + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    sim_put_le16(c + PCI_SUBSYSTEM_ID, 0x1100);
    sim_put_le16(c + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    sim_put_le16(c + PCI_CLASS_DEVICE, 0x0380);
    c[PCI_CLASS_REVISION] = 0x01;
    sim_put_le32(c + PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE_MEMORY |
             PCI_BASE_ADDRESS_MEM_TYPE_32 | PCI_BASE_ADDRESS_MEM_PREFETCH);
    s->bar_mask[0] = ~(uint32_t)s->memsize + 1;
    sim_put_le32(c + PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_SPACE_MEMORY |
             PCI_BASE_ADDRESS_MEM_TYPE_32);
    s->bar_mask[2] = ~MBOCHS_MMIO_BAR_SIZE + 1;
}

/* mbochs_reset: registers only, VRAM is kept */
static int mbochs_reset(Mbochs *s)
{
    memset(s->vbe, 0, sizeof(s->vbe));
    s->vbe[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->vbe[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = s->memsize / (64 * 1024);
    return 0;
}

static int mbochs_init(SimDevice *dev, char *err, size_t errlen)
{
    const char *tname = sim_opt(dev, "type", "medium");
    Mbochs *s = calloc(1, sizeof(*s));
    size_t i;

    for (i = 0; i < sizeof(mbochs_types) / sizeof(mbochs_types[0]); i++) {
        if (!strcmp(mbochs_types[i].name, tname)) {
            s->type = &mbochs_types[i];
        }
    }
    if (!s->type) {
        snprintf(err, errlen, "mbochs has no type '%s' (small, medium, large)",
                 tname);
        free(s);
        return -EINVAL;
    }
    /* measured on 6.1: mbochs exports read-only, any mmap is -EINVAL */
    s->cpu_mmap_errno = sim_opt_cpu_mmap_errno(dev, EINVAL, err, errlen);
    if (s->cpu_mmap_errno < 0) {
        free(s);
        return -EINVAL;
    }
    s->memsize = (uint64_t)s->type->mbytes << 20;
    s->vram_fd = sim_memfd("vfio-sim-mbochs-vram", s->memsize);
    s->next_id = 1;
    s->edid_regs.max_xres = s->type->max_x;
    s->edid_regs.max_yres = s->type->max_y;
    s->edid_regs.edid_offset = MBOCHS_EDID_BLOB_OFFSET;
    s->edid_regs.edid_max_size = sizeof(s->edid_blob);
    mbochs_config(s);
    mbochs_reset(s);
    dev->state = s;
    return 0;
}

/*
 * mbochs_check_framebuffer: only 32 bpp, at least 64x64, inside VRAM;
 * anything else is "no framebuffer" (a zeroed mode, -EINVAL).
 */
static int mbochs_check_fb(Mbochs *s, MbochsMode *m)
{
    uint16_t *vbe = s->vbe;
    uint32_t virt_width;

    memset(m, 0, sizeof(*m));
    if (!(vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) ||
        vbe[VBE_DISPI_INDEX_BPP] != 32) {
        return -EINVAL;
    }
    m->drm_format = DRM_FORMAT_XRGB8888;
    m->bytepp = 4;
    m->width = vbe[VBE_DISPI_INDEX_XRES];
    m->height = vbe[VBE_DISPI_INDEX_YRES];
    virt_width = vbe[VBE_DISPI_INDEX_VIRT_WIDTH];
    if (virt_width < m->width) {
        virt_width = m->width;
    }
    m->stride = virt_width * m->bytepp;
    m->size = (uint64_t)m->stride * m->height;
    m->offset = (uint64_t)vbe[VBE_DISPI_INDEX_X_OFFSET] * m->bytepp +
                (uint64_t)vbe[VBE_DISPI_INDEX_Y_OFFSET] * m->stride;
    if (m->width < 64 || m->height < 64 ||
        m->offset + m->size > s->memsize) {
        memset(m, 0, sizeof(*m));
        return -EINVAL;
    }
    return 0;
}

/* handle_pci_cfg_write: BAR0 and BAR2 */
static void mbochs_cfg_write(Mbochs *s, uint64_t off, const uint8_t *buf)
{
    int index = (off - PCI_BASE_ADDRESS_0) / 4;
    uint32_t addr;

    if (off != PCI_BASE_ADDRESS_0 && off != PCI_BASE_ADDRESS_2) {
        return;
    }
    memcpy(&addr, buf, 4);
    if (addr == 0xffffffff) {
        addr &= s->bar_mask[index];
    } else {
        addr &= PCI_BASE_ADDRESS_MEM_MASK;
    }
    addr |= s->vconfig[off] & ~PCI_BASE_ADDRESS_MEM_MASK;
    sim_put_le32(s->vconfig + off, addr);
}

/* handle_mmio_read / handle_mmio_write: EDID blob 0x000-0x3ff, dispi */
static void mbochs_mmio(Mbochs *s, uint64_t off, uint8_t *buf, size_t count,
                        bool is_write)
{
    struct vfio_region_gfx_edid *edid = &s->edid_regs;
    int index = (off - 0x500) / 2;
    uint16_t reg16 = 0;

    if (off >= 0x500 && off <= 0x515 && count == 2) {
        if (is_write) {
            memcpy(&reg16, buf, 2);
            if (index < VBE_DISPI_INDEX_COUNT) {
                s->vbe[index] = reg16;
            }
        } else {
            if (index < VBE_DISPI_INDEX_COUNT) {
                reg16 = s->vbe[index];
            }
            memcpy(buf, &reg16, 2);
        }
        return;
    }
    if (is_write) {
        return;
    }
    if (off < 0x400 && edid->link_state == VFIO_DEVICE_GFX_LINK_STATE_UP &&
        off < edid->edid_size) {
        memcpy(buf, s->edid_blob + off, count);
    } else {
        memset(buf, 0, count);
    }
}

/* handle_edid_regs / handle_edid_blob */
static void mbochs_edid(Mbochs *s, uint64_t off, uint8_t *buf, size_t count,
                        bool is_write)
{
    uint8_t *regs = (uint8_t *)&s->edid_regs;

    if (off < MBOCHS_EDID_BLOB_OFFSET) {
        if (off + count > sizeof(s->edid_regs) || count != 4 || off % 4) {
            return;
        }
        if (!is_write) {
            memcpy(buf, regs + off, count);
        } else if (off == offsetof(struct vfio_region_gfx_edid, link_state) ||
                   off == offsetof(struct vfio_region_gfx_edid, edid_size)) {
            memcpy(regs + off, buf, count);
        }
        return;
    }
    off -= MBOCHS_EDID_BLOB_OFFSET;
    if (off + count > s->edid_regs.edid_max_size) {
        return;
    }
    if (is_write) {
        memcpy(s->edid_blob + off, buf, count);
    } else {
        memcpy(buf, s->edid_blob + off, count);
    }
}

/*
 * mdev_access.  Kernel 6.1 behaviour kept: a VRAM access subtracts the MMIO
 * BAR offset, not the VRAM one, so pread/pwrite at BAR0 offset X reach
 * VRAM byte X + 2 pages (the last two pages of BAR0 through pread/pwrite
 * are past VRAM: they fail with EFAULT here where the kernel would WARN).
 */
static int mbochs_access(SimDevice *dev, void *buf, size_t count,
                         uint64_t pos, bool is_write)
{
    Mbochs *s = dev->state;
    ssize_t n;

    if (pos < MBOCHS_CONFIG_SPACE_SIZE) {
        if (is_write) {
            mbochs_cfg_write(s, pos, buf);
        } else {
            memcpy(buf, s->vconfig + pos, count);
        }
    } else if (pos >= MBOCHS_MMIO_BAR_OFFSET &&
               pos + count <= MBOCHS_MMIO_BAR_OFFSET + MBOCHS_MMIO_BAR_SIZE) {
        mbochs_mmio(s, pos - MBOCHS_MMIO_BAR_OFFSET, buf, count, is_write);
    } else if (pos >= MBOCHS_EDID_OFFSET &&
               pos + count <= MBOCHS_EDID_OFFSET + MBOCHS_EDID_SIZE) {
        mbochs_edid(s, pos - MBOCHS_EDID_OFFSET, buf, count, is_write);
    } else if (pos >= MBOCHS_MEMORY_BAR_OFFSET &&
               pos + count <= MBOCHS_MEMORY_BAR_OFFSET + s->memsize) {
        pos -= MBOCHS_MMIO_BAR_OFFSET;
        sim_count(dev, "mbochs-vram-access-shifted");
        if (pos + count > s->memsize) {
            return -1;
        }
        n = is_write ? pwrite(s->vram_fd, buf, count, pos) :
                       pread(s->vram_fd, buf, count, pos);
        if (n != (ssize_t)count) {
            return -1;
        }
    } else {
        return -1;
    }
    return count;
}

static ssize_t mbochs_rw(SimDevice *dev, void *buf, size_t count,
                         uint64_t pos, bool is_write)
{
    return sim_chunked_rw(dev, buf, count, pos, is_write, mbochs_access);
}

/* mbochs_mmap: VRAM only, at its offset, at most memsize, MAP_SHARED */
static int mbochs_mmap(SimDevice *dev, uint64_t offset, size_t len,
                       int flags, int *backing_fd, off_t *backing_off)
{
    Mbochs *s = dev->state;

    if (offset != MBOCHS_MEMORY_BAR_OFFSET || len > s->memsize ||
        !(flags & MAP_SHARED)) {
        return -EINVAL;
    }
    *backing_fd = s->vram_fd;
    *backing_off = 0;
    return 0;
}

/* mbochs_get_region_info (argsz above the ext struct is -EINVAL) */
static long mbochs_region_info(Mbochs *s, struct vfio_region_info *info)
{
    struct {
        struct vfio_region_info base;
        struct vfio_region_info_cap_type type;
    } ext;
    size_t minsz = offsetof(struct vfio_region_info, offset) +
                   sizeof(info->offset);
    uint32_t outsz = info->argsz;

    if (outsz < minsz || outsz > sizeof(ext)) {
        return -EINVAL;
    }
    memset(&ext, 0, sizeof(ext));
    memcpy(&ext, info, minsz);
    if (ext.base.index >= MBOCHS_NUM_REGIONS) {
        return -EINVAL;
    }
    switch (ext.base.index) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        ext.base.offset = 0;
        ext.base.size = MBOCHS_CONFIG_SPACE_SIZE;
        ext.base.flags = VFIO_REGION_INFO_FLAG_READ |
                         VFIO_REGION_INFO_FLAG_WRITE;
        break;
    case VFIO_PCI_BAR0_REGION_INDEX:
        ext.base.offset = MBOCHS_MEMORY_BAR_OFFSET;
        ext.base.size = s->memsize;
        ext.base.flags = VFIO_REGION_INFO_FLAG_READ |
                         VFIO_REGION_INFO_FLAG_WRITE |
                         VFIO_REGION_INFO_FLAG_MMAP;
        break;
    case VFIO_PCI_BAR2_REGION_INDEX:
        ext.base.offset = MBOCHS_MMIO_BAR_OFFSET;
        ext.base.size = MBOCHS_MMIO_BAR_SIZE;
        ext.base.flags = VFIO_REGION_INFO_FLAG_READ |
                         VFIO_REGION_INFO_FLAG_WRITE;
        break;
    case MBOCHS_EDID_REGION_INDEX:
        ext.base.argsz = sizeof(ext);
        ext.base.offset = MBOCHS_EDID_OFFSET;
        ext.base.size = MBOCHS_EDID_SIZE;
        ext.base.flags = VFIO_REGION_INFO_FLAG_READ |
                         VFIO_REGION_INFO_FLAG_WRITE |
                         VFIO_REGION_INFO_FLAG_CAPS;
        ext.base.cap_offset = offsetof(typeof(ext), type);
        ext.type.header.id = VFIO_REGION_INFO_CAP_TYPE;
        ext.type.header.version = 1;
        ext.type.header.next = 0;
        ext.type.type = VFIO_REGION_TYPE_GFX;
        ext.type.subtype = VFIO_REGION_SUBTYPE_GFX_EDID;
        break;
    default:
        ext.base.offset = 0;
        ext.base.size = 0;
        ext.base.flags = 0;
    }
    memcpy(info, &ext, outsz);
    return 0;
}

static MbochsBuf *buf_by_mode(Mbochs *s, const MbochsMode *m)
{
    MbochsBuf *b;

    for (b = s->bufs; b; b = b->next) {
        if (!memcmp(&b->mode, m, sizeof(*m))) {
            return b;
        }
    }
    return NULL;
}

/* mbochs_dmabuf_alloc: a new id for a mode never seen since open */
static MbochsBuf *buf_alloc(Mbochs *s, const MbochsMode *m)
{
    MbochsBuf *b = calloc(1, sizeof(*b));

    b->mode = *m;
    b->id = s->next_id++;
    b->vram_fd = s->vram_fd;
    b->next = s->bufs;
    s->bufs = b;
    return b;
}

/*
 * mbochs_query_gfx_plane.  Kernel 6.1 behaviour kept: for a mode without a
 * buffer yet, the sample allocates one but drops the pointer and returns
 * -ENOMEM; the next query of that mode finds it and succeeds.
 */
static long mbochs_query_plane(SimDevice *dev,
                               struct vfio_device_gfx_plane_info *p)
{
    Mbochs *s = dev->state;
    size_t minsz = offsetof(struct vfio_device_gfx_plane_info, region_index) +
                   sizeof(p->region_index);
    MbochsMode mode;
    MbochsBuf *b;
    int ret = -EINVAL;

    if (p->argsz < minsz) {
        return -EINVAL;
    }
    if (p->flags & VFIO_GFX_PLANE_TYPE_PROBE) {
        return p->flags == (VFIO_GFX_PLANE_TYPE_PROBE |
                            VFIO_GFX_PLANE_TYPE_DMABUF) ? 0 : -EINVAL;
    }
    if (p->flags != VFIO_GFX_PLANE_TYPE_DMABUF) {
        return -EINVAL;
    }
    p->drm_format_mod = 0;
    p->x_pos = 0;
    p->y_pos = 0;
    p->x_hot = 0;
    p->y_hot = 0;
    if (p->drm_plane_type == DRM_PLANE_TYPE_PRIMARY) {
        ret = mbochs_check_fb(s, &mode);
    }
    if (ret < 0) {
        p->drm_format = 0;
        p->width = 0;
        p->height = 0;
        p->stride = 0;
        p->size = 0;
        p->dmabuf_id = 0;
    } else {
        b = buf_by_mode(s, &mode);
        if (!b) {
            buf_alloc(s, &mode);
            sim_count(dev, "mbochs-query-enomem");
            return -ENOMEM;
        }
        p->drm_format = b->mode.drm_format;
        p->width = b->mode.width;
        p->height = b->mode.height;
        p->stride = b->mode.stride;
        p->size = b->mode.size;
        p->dmabuf_id = b->id;
    }
    if (p->drm_plane_type == DRM_PLANE_TYPE_PRIMARY &&
        s->active_id != p->dmabuf_id) {
        s->active_id = p->dmabuf_id;
    }
    return 0;
}

/*
 * mbochs_get_gfx_dmabuf + mbochs_dmabuf_export + dma_buf_fd.  The sample
 * hands out dma_buf_fd(dmabuf->buf) on every call without taking a
 * reference, and keeps a released buffer listed with its pages put.
 */
static long mbochs_get_dmabuf(SimDevice *dev, uint32_t id)
{
    Mbochs *s = dev->state;
    SimDmabuf d;
    MbochsBuf *b;
    int fd;

    for (b = s->bufs; b && b->id != id; b = b->next) {
    }
    if (!b) {
        return -ENOENT;
    }
    if (b->exported && b->fds_open > 0) {
        kernel_bug(dev, "mbochs-bug-second-fd", "a second GET_GFX_DMABUF for "
                   "an id whose fd is still open: two fds share one dma_buf "
                   "reference, the second close frees it twice");
    }
    if (!b->exported) {
        if (b->mode.offset % SIM_PAGE_SIZE) {
            return -EINVAL;  /* "framebuffer not page-aligned" */
        }
        if (b->pages_released) {
            kernel_bug(dev, "mbochs-bug-reexport", "GET_GFX_DMABUF for an id "
                       "whose dma-buf was released: its pages were already "
                       "put (Bad page state on the host)");
        }
        b->exported = true;
    }
    d.dev = dev;
    d.priv = b;
    d.backing_fd = b->vram_fd;
    d.offset = b->mode.offset;
    d.size = b->mode.size;
    d.cpu_mmap_errno = s->cpu_mmap_errno;
    d.fd_flags = 0;                 /* dma_buf_fd(dmabuf->buf, 0) */
    fd = sim_dmabuf_fd(&d);
    if (fd >= 0) {
        b->fds_open++;
        sim_count(dev, "mbochs-dmabuf-fds");
    }
    return fd;
}

/* mbochs_release_dmabuf, once the last fd of the file is closed */
static void mbochs_dmabuf_release(SimDevice *dev, void *priv)
{
    MbochsBuf *b = priv;

    if (--b->fds_open > 0) {
        return;
    }
    b->exported = false;
    b->pages_released = true;
    if (b->unlinked) {
        free(b);
    }
}

/*
 * mbochs_close_device: every buffer is unlinked (freed now, or on its
 * release if still exported) and the VRAM pages are put: the next open
 * sees zeroed VRAM, while exported dma-bufs keep their old pages.
 */
static void mbochs_close_device(SimDevice *dev)
{
    Mbochs *s = dev->state;
    bool old_vram_used = false;
    MbochsBuf *b, *next;

    for (b = s->bufs; b; b = next) {
        next = b->next;
        if (b->exported) {
            b->unlinked = true;
            old_vram_used = true;
        } else {
            free(b);
        }
    }
    s->bufs = NULL;
    if (!old_vram_used) {
        close(s->vram_fd);
    }
    s->vram_fd = sim_memfd("vfio-sim-mbochs-vram", s->memsize);
}

static long mbochs_ioctl(SimDevice *dev, unsigned long req, void *arg)
{
    Mbochs *s = dev->state;
    struct vfio_device_info *info = arg;
    struct vfio_irq_info *irq = arg;

    switch (req) {
    case VFIO_DEVICE_GET_INFO:
        if (info->argsz < offsetof(struct vfio_device_info, num_irqs) +
            sizeof(info->num_irqs)) {
            return -EINVAL;
        }
        info->flags = VFIO_DEVICE_FLAGS_PCI;
        info->num_regions = MBOCHS_NUM_REGIONS;
        info->num_irqs = VFIO_PCI_NUM_IRQS;
        return 0;
    case VFIO_DEVICE_GET_REGION_INFO:
        return mbochs_region_info(s, arg);
    case VFIO_DEVICE_GET_IRQ_INFO:
        if (irq->argsz < offsetof(struct vfio_irq_info, count) +
            sizeof(irq->count) || irq->index >= VFIO_PCI_NUM_IRQS) {
            return -EINVAL;
        }
        irq->count = 0;
        return 0;
    case VFIO_DEVICE_QUERY_GFX_PLANE:
        return mbochs_query_plane(dev, arg);
    case VFIO_DEVICE_GET_GFX_DMABUF:
        return mbochs_get_dmabuf(dev, *(uint32_t *)arg);
    case VFIO_DEVICE_SET_IRQS:
        return -EINVAL;
    case VFIO_DEVICE_RESET:
        return mbochs_reset(s);
    }
    return -ENOTTY;
}

/* ---- the control socket's view --------------------------------------- */

static int mbochs_memory(SimDevice *dev, int *fd, uint64_t *size)
{
    Mbochs *s = dev->state;

    *fd = s->vram_fd;
    *size = s->memsize;
    return 0;
}

static int mbochs_scanout(SimDevice *dev, SimScanout *out)
{
    Mbochs *s = dev->state;
    MbochsMode m;

    if (mbochs_check_fb(s, &m) < 0) {
        return -ENODEV;
    }
    out->fd = s->vram_fd;
    out->offset = m.offset;
    out->fourcc = m.drm_format;
    out->modifier = DRM_FORMAT_MOD_LINEAR;
    out->width = m.width;
    out->height = m.height;
    out->stride = m.stride;
    return 0;
}

/*
 * mode width= height= [bpp=32] [virt_width=] [x_offset=] [y_offset=]
 * [enable=1]: the DISPI register writes a guest's bochs-drm makes.
 */
static int mbochs_control(SimDevice *dev, const char *cmd, const SimArgs *a,
                          char *reply, size_t len)
{
    static const struct {
        const char *key;
        int index;
    } regs[] = {
        { "width", VBE_DISPI_INDEX_XRES },
        { "height", VBE_DISPI_INDEX_YRES },
        { "bpp", VBE_DISPI_INDEX_BPP },
        { "virt_width", VBE_DISPI_INDEX_VIRT_WIDTH },
        { "x_offset", VBE_DISPI_INDEX_X_OFFSET },
        { "y_offset", VBE_DISPI_INDEX_Y_OFFSET },
        { "enable", VBE_DISPI_INDEX_ENABLE },
    };
    Mbochs *s = dev->state;
    uint64_t v;
    size_t i;

    if (!strcmp(cmd, "edid")) {
        sim_edid_describe(&s->edid_regs, s->edid_blob, reply, len);
        return 0;
    }
    if (strcmp(cmd, "mode")) {
        return -ENOENT;
    }
    for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        if (sim_arg(a, regs[i].key, NULL) &&
            (!sim_arg_u64(a, regs[i].key, &v) || v > 0xffff)) {
            snprintf(reply, len, "%s: a 16-bit register value", regs[i].key);
            return -EINVAL;
        }
    }
    if (!sim_arg(a, "bpp", NULL)) {
        s->vbe[VBE_DISPI_INDEX_BPP] = 32;
    }
    if (!sim_arg(a, "enable", NULL)) {
        s->vbe[VBE_DISPI_INDEX_ENABLE] = VBE_DISPI_ENABLED;
    }
    for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        if (sim_arg_u64(a, regs[i].key, &v)) {
            s->vbe[regs[i].index] = v;
        }
    }
    sim_count(dev, "mbochs-mode-set");
    return 0;
}

/*
 * The parent mbochs_dev_init registers: the device "mbochs" of its class
 * "mbochs", no bus, no driver, so dev_driver_string() is the class name.
 */
static const SimMdevParent mbochs_parent = {
    .path = "devices/virtual/mbochs/mbochs",
    .class_name = "mbochs",
    .driver_string = "mbochs",
    .driver = "mbochs",                 /* mbochs_driver */
    .group = "vendor",                  /* mdev_dev_group */
    .ntypes = sizeof(mbochs_types) / sizeof(mbochs_types[0]),
};

/* max_mbytes: the module parameter "count", the megabytes of all mdevs */
#define MBOCHS_MAX_MBYTES 256

/*
 * mbochs_types[i].type: pretty_name "mbochs-<type>";
 * mbochs_show_description; mbochs_get_available: the megabytes left
 * (mbochs_init_dev takes each mdev's off) over the type's.
 */
static void mbochs_mdev_type(int i, SimDevice *const *devs, int n,
                             SimMdevType *t)
{
    const MbochsType *type = &mbochs_types[i];
    int avail = MBOCHS_MAX_MBYTES, j;

    for (j = 0; j < n; j++) {
        avail -= ((Mbochs *)devs[j]->state)->type->mbytes;
    }
    snprintf(t->sysfs_name, sizeof(t->sysfs_name), "%s", type->name);
    snprintf(t->name, sizeof(t->name), "mbochs-%s", type->name);
    snprintf(t->description, sizeof(t->description),
             "virtual display, %u MB video memory\n", type->mbytes);
    /* the simulator makes any device configured, even past the memory */
    t->available = avail > 0 ? avail / type->mbytes : 0;
}

static int mbochs_type_of(SimDevice *dev)
{
    return ((Mbochs *)dev->state)->type - mbochs_types;
}

/* mdev_dev_attrs: memory_show */
static int mbochs_attrs(SimDevice *dev, SimOpt *attrs, int max)
{
    snprintf(attrs[0].key, sizeof(attrs[0].key), "memory");
    snprintf(attrs[0].value, sizeof(attrs[0].value), "%u MB\n",
             ((Mbochs *)dev->state)->type->mbytes);
    return 1;
}

const SimModelOps sim_model_mbochs = {
    .name = "mbochs",
    .parent = &mbochs_parent,
    .mdev_type = mbochs_mdev_type,
    .type_of = mbochs_type_of,
    .attrs = mbochs_attrs,
    .init = mbochs_init,
    .ioctl = mbochs_ioctl,
    .rw = mbochs_rw,
    .mmap = mbochs_mmap,
    .close_device = mbochs_close_device,
    .dmabuf_release = mbochs_dmabuf_release,
    .memory = mbochs_memory,
    .scanout = mbochs_scanout,
    .control = mbochs_control,
};
