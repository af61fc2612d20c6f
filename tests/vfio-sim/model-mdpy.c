/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim model "mdpy": the kernel sample samples/vfio-mdev/mdpy.c of
 * Linux 6.1 (with mdpy-defs.h): a PCI display whose framebuffer is BAR0,
 * shown to userspace as a region-only display plane.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <libdrm/drm_fourcc.h>
#include <linux/pci_regs.h>

#include "sim.h"

/* mdpy-defs.h */
#define MDPY_PCI_VENDOR_ID 0x1b36        /* PCI_VENDOR_ID_REDHAT */
#define MDPY_PCI_DEVICE_ID 0x000f
#define MDPY_PCI_SUBVENDOR_ID 0x1af4     /* ..._REDHAT_QUMRANET */
#define MDPY_PCI_SUBDEVICE_ID 0x1100     /* PCI_SUBDEVICE_ID_QEMU */
#define MDPY_VENDORCAP_OFFSET 0x40
#define MDPY_VENDORCAP_SIZE 0x10
#define MDPY_FORMAT_OFFSET (MDPY_VENDORCAP_OFFSET + 0x04)
#define MDPY_WIDTH_OFFSET (MDPY_VENDORCAP_OFFSET + 0x08)
#define MDPY_HEIGHT_OFFSET (MDPY_VENDORCAP_OFFSET + 0x0c)

/* mdpy.c */
#define MDPY_CONFIG_SPACE_SIZE 0xff
#define MDPY_MEMORY_BAR_OFFSET SIM_PAGE_SIZE
#define MDPY_DISPLAY_REGION 16

typedef struct MdpyType {
    const char *name;
    uint32_t width, height;
} MdpyType;

/* mdpy_types[]: all DRM_FORMAT_XRGB8888, 4 bytes per pixel */
static const MdpyType mdpy_types[] = {
    { "vga", 640, 480 },
    { "xga", 1024, 768 },
    { "hd", 1920, 1080 },
};

typedef struct Mdpy {
    const MdpyType *type;
    uint8_t vconfig[256];        /* kzalloc(0xff): reads may touch 0xff */
    uint32_t bar_mask;
    uint32_t memsize;
    int mem_fd;
    uint8_t *mem;
    struct vfio_device_info dev_info;  /* as last returned by GET_INFO */
} Mdpy;

static uint32_t roundup_pow2(uint32_t v)
{
    uint32_t r = 1;

    while (r < v) {
        r <<= 1;
    }
    return r;
}

/* mdpy_create_config_space */
static void mdpy_config(Mdpy *s)
{
    uint8_t *c = s->vconfig;

    sim_put_le16(c + PCI_VENDOR_ID, MDPY_PCI_VENDOR_ID);
    sim_put_le16(c + PCI_DEVICE_ID, MDPY_PCI_DEVICE_ID);
    sim_put_le16(c + PCI_SUBSYSTEM_VENDOR_ID, MDPY_PCI_SUBVENDOR_ID);
    sim_put_le16(c + PCI_SUBSYSTEM_ID, MDPY_PCI_SUBDEVICE_ID);
    sim_put_le16(c + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    sim_put_le16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
    sim_put_le16(c + PCI_CLASS_DEVICE, 0x0380);  /* PCI_CLASS_DISPLAY_OTHER */
    c[PCI_CLASS_REVISION] = 0x01;
    sim_put_le32(c + PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE_MEMORY |
             PCI_BASE_ADDRESS_MEM_TYPE_32 | PCI_BASE_ADDRESS_MEM_PREFETCH);
    s->bar_mask = ~s->memsize + 1;
    c[PCI_CAPABILITY_LIST] = MDPY_VENDORCAP_OFFSET;
    c[MDPY_VENDORCAP_OFFSET + 0] = 0x09;
    c[MDPY_VENDORCAP_OFFSET + 1] = 0x00;
    c[MDPY_VENDORCAP_OFFSET + 2] = MDPY_VENDORCAP_SIZE;
    sim_put_le32(c + MDPY_FORMAT_OFFSET, DRM_FORMAT_XRGB8888);
    sim_put_le32(c + MDPY_WIDTH_OFFSET, s->type->width);
    sim_put_le32(c + MDPY_HEIGHT_OFFSET, s->type->height);
}

/* mdpy_reset: a gray gradient, row i = i * 255 / height */
static int mdpy_reset(Mdpy *s)
{
    uint32_t stride = s->type->width * 4, i;

    for (i = 0; i < s->type->height; i++) {
        memset(s->mem + i * stride, i * 255 / s->type->height, stride);
    }
    return 0;
}

static int mdpy_init(SimDevice *dev, char *err, size_t errlen)
{
    const char *tname = sim_opt(dev, "type", "xga");
    Mdpy *s = calloc(1, sizeof(*s));
    size_t i;

    for (i = 0; i < sizeof(mdpy_types) / sizeof(mdpy_types[0]); i++) {
        if (!strcmp(mdpy_types[i].name, tname)) {
            s->type = &mdpy_types[i];
        }
    }
    if (!s->type) {
        snprintf(err, errlen, "mdpy has no type '%s' (vga, xga, hd)", tname);
        free(s);
        return -EINVAL;
    }
    s->memsize = roundup_pow2(s->type->width * s->type->height * 4);
    s->mem_fd = sim_memfd("vfio-sim-mdpy-fb", s->memsize);
    s->mem = mmap(NULL, s->memsize, PROT_READ | PROT_WRITE, MAP_SHARED,
                  s->mem_fd, 0);
    if (s->mem == MAP_FAILED) {
        snprintf(err, errlen, "cannot map the framebuffer");
        return -ENOMEM;
    }
    mdpy_config(s);
    mdpy_reset(s);
    dev->state = s;
    return 0;
}

/* handle_pci_cfg_write: only BAR0 is writable */
static void mdpy_cfg_write(Mdpy *s, uint64_t off, const uint8_t *buf)
{
    uint32_t addr;

    if (off != PCI_BASE_ADDRESS_0) {
        return;
    }
    memcpy(&addr, buf, 4);
    if (addr == 0xffffffff) {
        addr &= s->bar_mask;
    } else {
        addr &= PCI_BASE_ADDRESS_MEM_MASK;
    }
    addr |= s->vconfig[off] & ~PCI_BASE_ADDRESS_MEM_MASK;
    sim_put_le32(s->vconfig + off, addr);
}

/*
 * mdev_access.  Kernel 6.1 behaviour kept: a BAR0 access copies to or
 * from the start of the framebuffer whatever its offset (the sample
 * subtracts the BAR offset from pos but then ignores pos).
 */
static int mdpy_access(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                       bool is_write)
{
    Mdpy *s = dev->state;

    if (pos < MDPY_CONFIG_SPACE_SIZE) {
        if (is_write) {
            mdpy_cfg_write(s, pos, buf);
        } else {
            memcpy(buf, s->vconfig + pos, count);
        }
    } else if (pos >= MDPY_MEMORY_BAR_OFFSET &&
               pos + count <= MDPY_MEMORY_BAR_OFFSET + s->memsize) {
        sim_count(dev, "mdpy-bar-access-at-offset-0");
        if (is_write) {
            memcpy(s->mem, buf, count);
        } else {
            memcpy(buf, s->mem, count);
        }
    } else {
        return -1;
    }
    return count;
}

static ssize_t mdpy_rw(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                       bool is_write)
{
    return sim_chunked_rw(dev, buf, count, pos, is_write, mdpy_access);
}

/* mdpy_mmap: exactly the BAR offset, at most memsize, MAP_SHARED */
static int mdpy_mmap(SimDevice *dev, uint64_t offset, size_t len, int flags,
                     int *backing_fd, off_t *backing_off)
{
    Mdpy *s = dev->state;

    if (offset != MDPY_MEMORY_BAR_OFFSET || len > s->memsize ||
        !(flags & MAP_SHARED)) {
        return -EINVAL;
    }
    *backing_fd = s->mem_fd;
    *backing_off = 0;
    return 0;
}

/* mdpy_get_region_info */
static long mdpy_region_info(Mdpy *s, struct vfio_region_info *info)
{
    size_t minsz = offsetof(struct vfio_region_info, offset) +
                   sizeof(info->offset);

    if (info->argsz < minsz) {
        return -EINVAL;
    }
    if (info->index >= VFIO_PCI_NUM_REGIONS &&
        info->index != MDPY_DISPLAY_REGION) {
        return -EINVAL;
    }
    switch (info->index) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        info->offset = 0;
        info->size = MDPY_CONFIG_SPACE_SIZE;
        info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        break;
    case VFIO_PCI_BAR0_REGION_INDEX:
    case MDPY_DISPLAY_REGION:
        info->offset = MDPY_MEMORY_BAR_OFFSET;
        info->size = s->memsize;
        info->flags = VFIO_REGION_INFO_FLAG_READ |
                      VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP;
        break;
    default:
        info->offset = 0;
        info->size = 0;
        info->flags = 0;
    }
    return 0;
}

/*
 * mdpy_query_gfx_plane: PROBE answers REGION only; the plane type is not
 * looked at, so a CURSOR query returns the primary plane too.
 */
static long mdpy_query_plane(Mdpy *s, struct vfio_device_gfx_plane_info *p)
{
    size_t minsz = offsetof(struct vfio_device_gfx_plane_info, region_index) +
                   sizeof(p->region_index);

    if (p->argsz < minsz) {
        return -EINVAL;
    }
    if (p->flags & VFIO_GFX_PLANE_TYPE_PROBE) {
        return p->flags == (VFIO_GFX_PLANE_TYPE_PROBE |
                            VFIO_GFX_PLANE_TYPE_REGION) ? 0 : -EINVAL;
    }
    if (p->flags != VFIO_GFX_PLANE_TYPE_REGION) {
        return -EINVAL;
    }
    p->drm_format = DRM_FORMAT_XRGB8888;
    p->width = s->type->width;
    p->height = s->type->height;
    p->stride = s->type->width * 4;
    p->size = s->memsize;
    p->region_index = MDPY_DISPLAY_REGION;
    p->drm_format_mod = 0;
    p->x_pos = 0;
    p->y_pos = 0;
    p->x_hot = 0;
    p->y_hot = 0;
    return 0;
}

static long mdpy_ioctl(SimDevice *dev, unsigned long req, void *arg)
{
    Mdpy *s = dev->state;
    struct vfio_device_info *info = arg;
    struct vfio_irq_info *irq = arg;

    switch (req) {
    case VFIO_DEVICE_GET_INFO:
        if (info->argsz < offsetof(struct vfio_device_info, num_irqs) +
            sizeof(info->num_irqs)) {
            return -EINVAL;
        }
        info->flags = VFIO_DEVICE_FLAGS_PCI;
        info->num_regions = VFIO_PCI_NUM_REGIONS;
        info->num_irqs = VFIO_PCI_NUM_IRQS;
        s->dev_info = *info;
        return 0;
    case VFIO_DEVICE_GET_REGION_INFO:
        return mdpy_region_info(s, arg);
    case VFIO_DEVICE_GET_IRQ_INFO:
        /* bounded by the num_irqs of the last GET_INFO (0 before it) */
        if (irq->argsz < offsetof(struct vfio_irq_info, count) +
            sizeof(irq->count) || irq->index >= s->dev_info.num_irqs) {
            return -EINVAL;
        }
        irq->count = 0;
        return 0;
    case VFIO_DEVICE_QUERY_GFX_PLANE:
        return mdpy_query_plane(s, arg);
    case VFIO_DEVICE_SET_IRQS:
        return -EINVAL;
    case VFIO_DEVICE_RESET:
        return mdpy_reset(s);
    }
    return -ENOTTY;
}

static int mdpy_memory(SimDevice *dev, int *fd, uint64_t *size)
{
    Mdpy *s = dev->state;

    *fd = s->mem_fd;
    *size = s->memsize;
    return 0;
}

/* the sample always shows its one mode from the start of BAR0 */
static int mdpy_scanout(SimDevice *dev, SimScanout *out)
{
    Mdpy *s = dev->state;

    out->fd = s->mem_fd;
    out->offset = 0;
    out->fourcc = DRM_FORMAT_XRGB8888;
    out->modifier = DRM_FORMAT_MOD_LINEAR;
    out->width = s->type->width;
    out->height = s->type->height;
    out->stride = s->type->width * 4;
    return 0;
}

/*
 * The parent mdpy_dev_init registers: the device "mdpy" of its class
 * "mdpy", no bus, no driver, so dev_driver_string() is the class name.
 */
static const SimMdevParent mdpy_parent = {
    .path = "devices/virtual/mdpy/mdpy",
    .class_name = "mdpy",
    .driver_string = "mdpy",
    .driver = "mdpy",                   /* mdpy_driver */
    .group = "vendor",                  /* mdev_dev_group */
    .ntypes = sizeof(mdpy_types) / sizeof(mdpy_types[0]),
};

/* mdpy_driver.max_instances, the module parameter "count" */
#define MDPY_MAX_DEVICES 4

/*
 * mdpy_types[i].type: pretty_name "mdpy-<type>"; mdpy_show_description;
 * no get_available, so the mdev core's count of the parent
 * (mdev_register_parent: max_instances; mdev_device_create takes one, of
 * any type, mdev_device_release gives it back).
 */
static void mdpy_mdev_type(int i, SimDevice *const *devs, int n,
                           SimMdevType *t)
{
    const MdpyType *type = &mdpy_types[i];

    snprintf(t->sysfs_name, sizeof(t->sysfs_name), "%s", type->name);
    snprintf(t->name, sizeof(t->name), "mdpy-%s", type->name);
    snprintf(t->description, sizeof(t->description),
             "virtual display, %ux%u framebuffer\n", type->width,
             type->height);
    /* the simulator makes any device configured, even past the count */
    t->available = n < MDPY_MAX_DEVICES ? MDPY_MAX_DEVICES - n : 0;
}

static int mdpy_type_of(SimDevice *dev)
{
    return ((Mdpy *)dev->state)->type - mdpy_types;
}

/* mdev_dev_attrs: resolution_show */
static int mdpy_attrs(SimDevice *dev, SimOpt *attrs, int max)
{
    const MdpyType *type = ((Mdpy *)dev->state)->type;

    snprintf(attrs[0].key, sizeof(attrs[0].key), "resolution");
    snprintf(attrs[0].value, sizeof(attrs[0].value), "%ux%u\n",
             type->width, type->height);
    return 1;
}

const SimModelOps sim_model_mdpy = {
    .name = "mdpy",
    .parent = &mdpy_parent,
    .mdev_type = mdpy_mdev_type,
    .type_of = mdpy_type_of,
    .attrs = mdpy_attrs,
    .init = mdpy_init,
    .ioctl = mdpy_ioctl,
    .rw = mdpy_rw,
    .mmap = mdpy_mmap,
    .memory = mdpy_memory,
    .scanout = mdpy_scanout,
};
