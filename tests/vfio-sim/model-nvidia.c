/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim model "nvidia": an NVIDIA GRID vGPU (KVM) as the public kernel
 * module of the 460.73.01 driver shows it to userspace:
 * kernel/nvidia-vgpu-vfio/nvidia-vgpu-vfio.c (ioctls, regions, read/write,
 * mmap, the console plane) with nvidia-vgpu-vfio.h, vgpu-devices.c and
 * nv-vgpu-ioctl.h.  A region-only display: the closed nvidia-vgpu-mgr
 * plugin copies the guest's console into a vmalloc'ed surface that
 * userspace maps.  What that source does not show (BAR sizes, when the
 * console has a mode, the surface's size) are guesses, marked "guess".
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

/* nvidia-vgpu-vfio.h: NV_VGPU_VFIO_PGOFF_* fields of a region offset */
#define NV_PCI_INDEX_SHIFT 40                  /* PCI_INDEX 43:40 */
#define NV_PCI_INDEX_MASK 0xfull
#define NV_UNIQUE_ID_SHIFT 44                  /* UNIQUE_ID 59:44 */
#define NV_PCI_OFFSET_MASK ((1ull << 40) - 1)  /* PCI_OFFSET 39:0 */
/* no v1 migration uapi on 6.1: REGIONS_MAX = VFIO_PCI_NUM_REGIONS */
#define NV_REGIONS_MAX VFIO_PCI_NUM_REGIONS
#define NV_CONSOLE_REGION NV_REGIONS_MAX       /* "always last region" */
#define NV_CONFIG_SIZE 4096                    /* PCI_EXTENDED_CONFIG_... */
#define NV_CONSOLE_SIZE_MAX (16u << 20)        /* ..._CONSOLE_SURFACE_SIZE_MAX */

/* guess: a Tesla T4's BARs (BAR1 and BAR3 64-bit, so 2 and 4 are empty) */
#define NV_BAR0_SIZE (16ull << 20)
#define NV_BAR1_SIZE (256ull << 20)
#define NV_BAR3_SIZE (32ull << 20)

typedef struct NvBar {
    uint64_t size;
    uint64_t base;                     /* where in the BAR memfd */
} NvBar;

/* nv_vgpu_vfio_get_gfx_plane_info: msecs_to_jiffies(8000), a literal */
#define NV_MANAGER_TIMEOUT_MS 8000

typedef struct Nvidia {
    uint16_t vgpu_id;                  /* UNIQUE_ID of region offsets */
    uint8_t cfg[NV_CONFIG_SIZE];       /* the plugin's config space */
    NvBar bars[VFIO_PCI_BAR5_REGION_INDEX + 1];
    int bar_fd;                        /* BAR0, BAR1, BAR3 scratch */
    int console_fd;                    /* vgpu_dev->console.surface */
    uint64_t console_size;             /* console.surface_size */
    uint32_t num_irqs;                 /* vfio_info, set by GET_INFO */
    int manager_ms;                    /* CONSOLE_INFO answered after;
                                          -1: never (manager hung) */
    struct {                           /* console.surface_params */
        bool valid;                    /* guess: -EIO until the first mode */
        uint32_t width, height, depth, size;
        uint32_t pitch;                /* lineSize: the surface's layout */
    } mode;
} Nvidia;

static void nv_config(Nvidia *s, uint16_t device_id)
{
    uint8_t *c = s->cfg;

    sim_put_le16(c + PCI_VENDOR_ID, 0x10de);
    sim_put_le16(c + PCI_DEVICE_ID, device_id);
    sim_put_le16(c + PCI_SUBSYSTEM_VENDOR_ID, 0x10de);
    sim_put_le16(c + PCI_CLASS_DEVICE, 0x0300);
    sim_put_le32(c + PCI_BASE_ADDRESS_0, 0);
    sim_put_le32(c + PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_MEM_TYPE_64 |
                 PCI_BASE_ADDRESS_MEM_PREFETCH);
    sim_put_le32(c + PCI_BASE_ADDRESS_3, PCI_BASE_ADDRESS_MEM_TYPE_64 |
                 PCI_BASE_ADDRESS_MEM_PREFETCH);
    c[PCI_INTERRUPT_PIN] = 1;
}

static int nv_init(SimDevice *dev, char *err, size_t errlen)
{
    const char *id = sim_opt(dev, "vgpu-id", "1");
    const char *did = sim_opt(dev, "device-id", "0x1eb8");
    const char *csize = sim_opt(dev, "console-size", "16777216");
    Nvidia *s = calloc(1, sizeof(*s));
    char *end;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->vgpu_id = strtoul(id, &end, 0);
    s->console_size = strtoull(csize, NULL, 0);
    /* nv_vfio_vgpu_alloc_console_buffer: at most SURFACE_SIZE_MAX */
    if (*end || !s->console_size || s->console_size > NV_CONSOLE_SIZE_MAX) {
        snprintf(err, errlen, "nvidia: vgpu-id= a number, console-size= 1 "
                 "to %u", NV_CONSOLE_SIZE_MAX);
        free(s);
        return -EINVAL;
    }
    s->bars[VFIO_PCI_BAR0_REGION_INDEX] = (NvBar){ NV_BAR0_SIZE, 0 };
    s->bars[VFIO_PCI_BAR1_REGION_INDEX] = (NvBar){ NV_BAR1_SIZE,
                                                   NV_BAR0_SIZE };
    s->bars[VFIO_PCI_BAR3_REGION_INDEX] = (NvBar){ NV_BAR3_SIZE,
                                                   NV_BAR0_SIZE +
                                                   NV_BAR1_SIZE };
    s->bar_fd = sim_memfd("vfio-sim-nvidia-bars", NV_BAR0_SIZE +
                          NV_BAR1_SIZE + NV_BAR3_SIZE);
    /* vmalloc_user: page-rounded, zeroed */
    s->console_size = (s->console_size + SIM_PAGE_SIZE - 1) &
                      ~(uint64_t)(SIM_PAGE_SIZE - 1);
    s->console_fd = sim_memfd("vfio-sim-nvidia-console", s->console_size);
    nv_config(s, strtoul(did, NULL, 0));
    dev->state = s;
    return 0;
}

static uint64_t nv_region_offset(Nvidia *s, unsigned index)
{
    return (uint64_t)index << NV_PCI_INDEX_SHIFT |
           (uint64_t)s->vgpu_id << NV_UNIQUE_ID_SHIFT;
}

/* ---- read/write (nv_vgpu_vfio_access) -------------------------------- */

/* the plugin's config space: BAR sizing as a PCI device answers it */
static void nv_cfg_write(Nvidia *s, uint64_t off, const uint8_t *buf,
                         size_t count)
{
    static const unsigned bar_of[] = { 0, 1, 1, 3, 3, 5 };
    unsigned i = (off - PCI_BASE_ADDRESS_0) / 4;
    uint64_t size;
    uint32_t v;

    if (off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5 &&
        count == 4 && !(off & 3)) {
        size = s->bars[bar_of[i]].size;
        memcpy(&v, buf, 4);
        if (i == 2 || i == 4) {          /* upper halves of 64-bit BARs */
            v &= (uint32_t)(~(size - 1) >> 32);
        } else {
            v = (v & ~(uint32_t)(size - 1)) | (s->cfg[off] & 0xf);
        }
        sim_put_le32(s->cfg + off, size ? v : 0);
    } else if (off + count <= NV_CONFIG_SIZE) {
        memcpy(s->cfg + off, buf, count);
    }
}

static int nv_access(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                     bool is_write)
{
    Nvidia *s = dev->state;
    unsigned index = pos >> NV_PCI_INDEX_SHIFT & NV_PCI_INDEX_MASK;
    uint64_t off = pos & NV_PCI_OFFSET_MASK;
    NvBar *bar;
    ssize_t n;

    switch (index) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        if (off + count > NV_CONFIG_SIZE) {
            return -EIO;                 /* guess: the plugin refuses */
        }
        if (is_write) {
            nv_cfg_write(s, off, buf, count);
        } else {
            memcpy(buf, s->cfg + off, count);
        }
        return count;
    case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR4_REGION_INDEX:
        bar = &s->bars[index];
        if (off + count > bar->size) {
            return -EIO;                 /* guess: the plugin refuses */
        }
        n = is_write ? pwrite(s->bar_fd, buf, count, bar->base + off) :
                       pread(s->bar_fd, buf, count, bar->base + off);
        return n == (ssize_t)count ? (int)count : -EIO;
    default:
        /* the console region too: "default: ret = -EINVAL" */
        sim_count(dev, "nvidia-rw-einval");
        return -EINVAL;
    }
}

/* nv_vgpu_vfio_read/write: 4, 2, 1 byte accesses, any failure -EFAULT */
static ssize_t nv_rw(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                     bool is_write)
{
    return sim_chunked_rw(dev, buf, count, pos, is_write, nv_access);
}

/* ---- mmap (nv_vgpu_vfio_mmap) ---------------------------------------- */

static int nv_mmap(SimDevice *dev, uint64_t offset, size_t len, int flags,
                   int *backing_fd, off_t *backing_off)
{
    Nvidia *s = dev->state;
    unsigned index = offset >> NV_PCI_INDEX_SHIFT & NV_PCI_INDEX_MASK;
    uint64_t off = offset & NV_PCI_OFFSET_MASK;

    if (index == NV_CONSOLE_REGION) {
        /*
         * remap_vmalloc_range(vma, surface, 0): always from the surface's
         * first byte, whatever the offset inside the region; a mapping
         * longer than the surface fails.
         */
        if (len > s->console_size) {
            return -EINVAL;
        }
        sim_count(dev, "nvidia-console-mmap");
        *backing_fd = s->console_fd;
        *backing_off = 0;
        return 0;
    }
    if (index == VFIO_PCI_BAR1_REGION_INDEX) {
        /* vgpu_mmio_ops: faulted in; scratch memory here (guess) */
        if (off > NV_BAR1_SIZE || len > NV_BAR1_SIZE - off) {
            return -EINVAL;
        }
        *backing_fd = s->bar_fd;
        *backing_off = s->bars[index].base + off;
        return 0;
    }
    /* ROM and up but the console, BAR0 without sparse areas, BAR2-4 */
    return -EINVAL;
}

/* ---- ioctls (nv_vgpu_vfio_ioctl) ------------------------------------- */

/*
 * nv_vgpu_vfio_region_info: a region it has no size for "goto
 * region_info_exit" with 0, so the caller's struct comes back as it was
 * sent (copy_from_user then copy_to_user of minsz bytes).
 */
static long nv_region_info(Nvidia *s, struct vfio_region_info *info)
{
    uint64_t size;
    uint32_t flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

    if (info->argsz < offsetof(struct vfio_region_info, offset) +
        sizeof(info->offset)) {
        return -EINVAL;
    }
    switch (info->index) {
    case VFIO_PCI_BAR0_REGION_INDEX:
    case VFIO_PCI_BAR1_REGION_INDEX:
    case VFIO_PCI_BAR3_REGION_INDEX:
        size = s->bars[info->index].size;
        if (info->index == VFIO_PCI_BAR1_REGION_INDEX) {
            flags |= VFIO_REGION_INFO_FLAG_MMAP;
        }
        break;
    case VFIO_PCI_CONFIG_REGION_INDEX:
        size = NV_CONFIG_SIZE;
        break;
    case NV_CONSOLE_REGION:
        size = NV_CONSOLE_SIZE_MAX;      /* not the surface's size */
        flags |= VFIO_REGION_INFO_FLAG_MMAP;
        break;
    default:
        return 0;                        /* BAR2, BAR4, BAR5, ROM, VGA, ... */
    }
    info->size = size;
    info->flags = flags;
    info->offset = nv_region_offset(s, info->index);
    return 0;
}

/* vgpu_get_irq_info, bounded by the num_irqs of the last GET_INFO */
static long nv_irq_info(Nvidia *s, struct vfio_irq_info *irq)
{
    if (irq->argsz < offsetof(struct vfio_irq_info, count) +
        sizeof(irq->count) || irq->index >= s->num_irqs) {
        return -EINVAL;
    }
    if (irq->index == VFIO_PCI_ERR_IRQ_INDEX) {
        return 0;                        /* "return 0": the struct echoed */
    }
    irq->flags = VFIO_IRQ_INFO_EVENTFD;
    irq->flags |= irq->index == VFIO_PCI_INTX_IRQ_INDEX ?
                  VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED :
                  VFIO_IRQ_INFO_NORESIZE;
    irq->count = 1;
    return 0;
}

/*
 * vfio_set_irqs_validate_and_prepare(&hdr, vfio_info.num_irqs,
 * VFIO_PCI_NUM_IRQS, ..): num_irqs (5 after GET_INFO, 0 before) bounds
 * start + count; nv_vgpu_vfio_set_irqs then takes the eventfds (no guest
 * here raises interrupts).
 */
static long nv_set_irqs(Nvidia *s, struct vfio_irq_set *hdr)
{
    uint32_t action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    uint32_t data = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

    if (hdr->argsz < offsetof(struct vfio_irq_set, count) +
        sizeof(hdr->count) || hdr->index >= VFIO_PCI_NUM_IRQS ||
        (hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
                        VFIO_IRQ_SET_ACTION_TYPE_MASK)) ||
        __builtin_popcount(data) != 1 || __builtin_popcount(action) != 1) {
        return -EINVAL;
    }
    if (hdr->count && (hdr->start >= s->num_irqs ||
                       hdr->count > s->num_irqs - hdr->start)) {
        return -EINVAL;
    }
    return 0;
}

/* get_drm_format: by the guest's depth, XRGB8888 for anything else */
static uint32_t nv_drm_format(uint32_t depth)
{
    switch (depth) {
    case 8:
        return DRM_FORMAT_C8;
    case 16:
        return DRM_FORMAT_RGB565;
    case 24:
        return DRM_FORMAT_RGB888;
    default:
        return DRM_FORMAT_XRGB8888;
    }
}

/*
 * The VFIO_DEVICE_QUERY_GFX_PLANE case and nv_vgpu_vfio_get_gfx_plane_info:
 * no REGION flag is EINVAL (DMABUF and PROBE|DMABUF too); PROBE with it is
 * 0; otherwise the console surface whatever drm_plane_type asks, writing
 * only drm_format, width, height, stride, size and region_index (the rest
 * of the caller's struct comes back as sent).
 */
static long nv_query_plane(SimDevice *dev,
                           struct vfio_device_gfx_plane_info *p)
{
    Nvidia *s = dev->state;

    if (p->argsz < offsetof(struct vfio_device_gfx_plane_info, region_index) +
        sizeof(p->region_index)) {
        return -EINVAL;
    }
    if (!(p->flags & VFIO_GFX_PLANE_TYPE_REGION)) {
        sim_count(dev, "nvidia-query-no-region");
        return -EINVAL;
    }
    if (p->flags & VFIO_GFX_PLANE_TYPE_PROBE) {
        return 0;
    }
    if (!s->mode.valid) {
        /* guess: the plugin answers CONSOLE_INFO with an error: -EIO */
        sim_count(dev, "nvidia-query-no-mode");
        return -EIO;
    }
    p->drm_format = nv_drm_format(s->mode.depth);
    p->width = s->mode.width;
    p->height = s->mode.height;
    p->stride = s->mode.depth * s->mode.width / 8;     /* u32, as NvU32 */
    p->size = s->mode.size;
    p->region_index = NV_CONSOLE_REGION;
    return 0;
}

/*
 * nv_vgpu_vfio_get_gfx_plane_info posts NV_VFIO_VGPU_EVENT_CONSOLE_INFO to
 * nvidia-vgpu-mgr and waits for SET_CONSOLE_SURFACE_PROP with
 * wait_event_interruptible_timeout(..., msecs_to_jiffies(8000)), under
 * the device's ops_lock (nv_vgpu_vfio_ioctl's down()): a manager that
 * does not answer in time is -ETIMEDOUT, the caller's struct not copied
 * back.  Only a real query waits: without REGION it is -EINVAL and a
 * PROBE is 0 before the post.  The manager's delay is ours to set
 * ("manager" control command); by default it answers at once.
 */
static long nv_wait(SimDevice *dev, unsigned long req, void *arg)
{
    struct vfio_device_gfx_plane_info *p = arg;
    Nvidia *s = dev->state;
    int ms = __atomic_load_n(&s->manager_ms, __ATOMIC_RELAXED);
    bool answers = ms > 0 && ms < NV_MANAGER_TIMEOUT_MS;

    if (req != VFIO_DEVICE_QUERY_GFX_PLANE || !ms ||
        p->argsz < offsetof(struct vfio_device_gfx_plane_info,
                            region_index) + sizeof(p->region_index) ||
        !(p->flags & VFIO_GFX_PLANE_TYPE_REGION) ||
        (p->flags & VFIO_GFX_PLANE_TYPE_PROBE)) {
        return 0;
    }
    sim_sleep_ms(answers ? ms : NV_MANAGER_TIMEOUT_MS);
    if (!answers) {
        sim_count(dev, "nvidia-manager-timeout");
        return -ETIMEDOUT;
    }
    return 0;
}

static long nv_ioctl(SimDevice *dev, unsigned long req, void *arg)
{
    Nvidia *s = dev->state;
    struct vfio_device_info *info = arg;

    switch (req) {
    case VFIO_DEVICE_GET_INFO:
        if (info->argsz < offsetof(struct vfio_device_info, num_irqs) +
            sizeof(info->num_irqs)) {
            return -EINVAL;
        }
        info->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
        info->num_regions = NV_REGIONS_MAX;
        info->num_irqs = VFIO_PCI_NUM_IRQS;
        s->num_irqs = info->num_irqs;
        return 0;
    case VFIO_DEVICE_GET_REGION_INFO:
        return nv_region_info(s, arg);
    case VFIO_DEVICE_GET_IRQ_INFO:
        return nv_irq_info(s, arg);
    case VFIO_DEVICE_SET_IRQS:
        return nv_set_irqs(s, arg);
    case VFIO_DEVICE_RESET:
        /* VM_REBOOT to the plugin; guess: the console has no mode again */
        s->mode.valid = false;
        sim_count(dev, "nvidia-reset");
        return 0;
    case VFIO_DEVICE_QUERY_GFX_PLANE:
        return nv_query_plane(dev, arg);
    }
    /* the switch has no default: "int ret = -EINVAL" (GET_GFX_DMABUF too) */
    sim_count(dev, "nvidia-ioctl-einval");
    return -EINVAL;
}

/*
 * nv_vgpu_vfio_close: the plugin stops (VM_SHUTDOWN); guess: it frees the
 * console buffer, so the next open starts with a fresh, zeroed surface
 * and no mode.  GET_INFO's num_irqs is cleared (cleanup_vgpu_dev).
 */
static void nv_close_device(SimDevice *dev)
{
    Nvidia *s = dev->state;

    memset(&s->mode, 0, sizeof(s->mode));
    s->num_irqs = 0;
    if (ftruncate(s->console_fd, 0) < 0 ||
        ftruncate(s->console_fd, s->console_size) < 0) {
        sim_count(dev, "nvidia-console-reset-failed");
    }
}

/* ---- the control socket's view --------------------------------------- */

static int nv_memory(SimDevice *dev, int *fd, uint64_t *size)
{
    Nvidia *s = dev->state;

    *fd = s->console_fd;
    *size = s->console_size;
    return 0;
}

/* the console surface as the plugin fills it: lineSize bytes a row */
static int nv_scanout(SimDevice *dev, SimScanout *out)
{
    Nvidia *s = dev->state;

    if (!s->mode.valid) {
        return -ENODEV;
    }
    out->fd = s->console_fd;
    out->offset = 0;
    out->fourcc = nv_drm_format(s->mode.depth);
    out->modifier = DRM_FORMAT_MOD_LINEAR;
    out->width = s->mode.width;
    out->height = s->mode.height;
    out->stride = s->mode.pitch;
    return 0;
}

/*
 * mode: what the plugin's SET_CONSOLE_SURFACE_PROP would carry for the
 * guest's console: width= height= depth= [pitch=] [size=] [pattern=], or
 * enable=0 for no mode.  pitch (lineSize) defaults to the stride the
 * driver reports, size to pitch * height (guesses); both may be set to
 * what a plugin could send.
 */
static int nv_mode(SimDevice *dev, const SimArgs *a, char *reply, size_t len)
{
    Nvidia *s = dev->state;
    uint64_t w = 0, h = 0, depth = 32, pitch, size, enable = 1;
    const char *pattern = sim_arg(a, "pattern", NULL);
    SimScanout sc;

    if (sim_arg(a, "enable", NULL) && (!sim_arg_u64(a, "enable", &enable) ||
                                       enable > 1)) {
        snprintf(reply, len, "enable: 0 or 1");
        return -EINVAL;
    }
    if (!enable) {
        s->mode.valid = false;
        return 0;
    }
    if (!sim_arg_u64(a, "width", &w) || !sim_arg_u64(a, "height", &h) ||
        !w || !h || w > 8192 || h > 8192 ||
        (sim_arg(a, "depth", NULL) && !sim_arg_u64(a, "depth", &depth)) ||
        !depth || depth > 32) {
        snprintf(reply, len, "width, height: 1 to 8192; depth: 1 to 32");
        return -EINVAL;
    }
    pitch = depth * w / 8;
    if (sim_arg(a, "pitch", NULL) && !sim_arg_u64(a, "pitch", &pitch)) {
        snprintf(reply, len, "pitch: a number");
        return -EINVAL;
    }
    size = pitch * h;
    if ((sim_arg(a, "size", NULL) && !sim_arg_u64(a, "size", &size)) ||
        size > UINT32_MAX || pitch * h > s->console_size) {
        snprintf(reply, len, "the surface holds %llu bytes",
                 (unsigned long long)s->console_size);
        return -EINVAL;
    }
    s->mode.valid = true;
    s->mode.width = w;
    s->mode.height = h;
    s->mode.depth = depth;
    s->mode.pitch = pitch;
    s->mode.size = size;
    sim_count(dev, "nvidia-mode");
    if (pattern && (nv_scanout(dev, &sc) < 0 ||
                    sim_draw(&sc, 0, 0, sc.width, sc.height, pattern) < 0)) {
        snprintf(reply, len, "cannot draw '%s' at depth %u", pattern,
                 s->mode.depth);
        return -EINVAL;
    }
    snprintf(reply, len, "stride=%u size=%u", s->mode.depth * s->mode.width / 8,
             s->mode.size);
    return 0;
}

static int nv_control(SimDevice *dev, const char *cmd, const SimArgs *a,
                      char *reply, size_t len)
{
    Nvidia *s = dev->state;
    const char *answer = sim_arg(a, "answer", "now");
    char *end;
    long ms;

    if (!strcmp(cmd, "mode")) {
        return nv_mode(dev, a, reply, len);
    }
    if (strcmp(cmd, "manager")) {
        return -ENOENT;
    }
    /* manager answer=now|never|MS: how nvidia-vgpu-mgr answers */
    ms = !strcmp(answer, "now") ? 0 : !strcmp(answer, "never") ? -1 :
         strtol(answer, &end, 10);
    if (ms > 0 && (*end || ms > 600000)) {
        snprintf(reply, len, "bad answer '%s'", answer);
        return -EINVAL;
    }
    __atomic_store_n(&s->manager_ms, (int)ms, __ATOMIC_RELAXED);
    return 0;
}

/*
 * The parent nv_vgpu_probe registers: the GPU's PCI device (a choice: a
 * discrete GPU behind the root port 00:01.0); dev_driver_string() is
 * nvidia.ko's PCI driver, "nvidia".  The module registers with
 * mdev_parent_ops (kernels before 5.16), so on 6.1 its mdev driver's name
 * is a guess: the module's.
 */
static const SimMdevParent nv_parent = {
    .path = "devices/pci0000:00/0000:00:01.0/0000:01:00.0",
    .class_name = NULL,
    .driver_string = "nvidia",
    .driver = "nvidia-vgpu-vfio",
    .group = "nvidia",                  /* vgpu_dev_group */
    .ntypes = 1,
};

/*
 * nv_vgpu_probe names each type group after the vGPU type id RM reports
 * ("%d"); name, description and available_instances are what RM's
 * get_name, get_description and get_instances write: guesses, one type
 * of a Tesla T4 in the form those show.
 */
#define NV_TYPE_ID "222"
#define NV_TYPE_MAX 16

static void nv_mdev_type(int i, SimDevice *const *devs, int n,
                         SimMdevType *t)
{
    snprintf(t->sysfs_name, sizeof(t->sysfs_name), NV_TYPE_ID);
    snprintf(t->name, sizeof(t->name), "GRID T4-1Q");
    snprintf(t->description, sizeof(t->description),
             "num_heads=4, frl_config=60, framebuffer=1024M, "
             "max_resolution=5120x2880, max_instance=%d\n", NV_TYPE_MAX);
    t->available = n < NV_TYPE_MAX ? NV_TYPE_MAX - n : 0;
}

static int nv_type_of(SimDevice *dev)
{
    return 0;
}

/*
 * vgpu_dev_attrs: vgpu_params_show (the empty config_params) and
 * vm_name_show (empty while no VM has the device open; not modelled)
 */
static int nv_attrs(SimDevice *dev, SimOpt *attrs, int max)
{
    snprintf(attrs[0].key, sizeof(attrs[0].key), "vgpu_params");
    snprintf(attrs[0].value, sizeof(attrs[0].value), "\n");
    snprintf(attrs[1].key, sizeof(attrs[1].key), "vm_name");
    snprintf(attrs[1].value, sizeof(attrs[1].value), "\n");
    return 2;
}

const SimModelOps sim_model_nvidia = {
    .name = "nvidia",
    .parent = &nv_parent,
    .mdev_type = nv_mdev_type,
    .type_of = nv_type_of,
    .attrs = nv_attrs,
    .init = nv_init,
    .ioctl = nv_ioctl,
    .rw = nv_rw,
    .mmap = nv_mmap,
    .close_device = nv_close_device,
    .device_lock = true,
    .wait = nv_wait,
    .memory = nv_memory,
    .scanout = nv_scanout,
    .control = nv_control,
};
