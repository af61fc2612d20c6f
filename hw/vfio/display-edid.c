/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the GFX EDID region.  The host writes the monitor's
 * EDID (preferred mode from xres/yres or from a UI resize request) and
 * toggles the link so that the guest driver re-reads it.
 */
#include "qemu/osdep.h"

#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "hw/display/edid.h"
#include "pci.h"
#include "vfio-display.h"
#include "trace.h"

/* the smallest EDID (one block) and the largest blob we believe */
#define EDID_MIN_SIZE   128
#define EDID_MAX_SIZE   (64 * KiB)
#define EDID_MAX_OFFSET (1 * MiB)
/* how long the link stays down so the guest notices the change */
#define EDID_LINK_DOWN_MS 100

static bool edid_reg_rw(VFIODisplay *dpy, size_t off, void *val, size_t len,
                        bool write)
{
    int fd = dpy->vdev->vbasedev.fd;
    off_t pos = dpy->edid.info->offset + off;
    ssize_t n = write ? pwrite(fd, val, len, pos) : pread(fd, val, len, pos);

    if (n != len) {
        trace_vfio_display_edid_write_error();
        return false;
    }
    return true;
}

#define edid_reg_read(dpy, field) \
    edid_reg_rw(dpy, offsetof(struct vfio_region_gfx_edid, field), \
                &(dpy)->edid.regs.field, sizeof((dpy)->edid.regs.field), false)
#define edid_reg_write(dpy, field) \
    edid_reg_rw(dpy, offsetof(struct vfio_region_gfx_edid, field), \
                &(dpy)->edid.regs.field, sizeof((dpy)->edid.regs.field), true)

static void vfio_display_edid_link_up(void *opaque)
{
    VFIODisplay *dpy = opaque;

    dpy->edid.regs.link_state = VFIO_DEVICE_GFX_LINK_STATE_UP;
    if (edid_reg_write(dpy, link_state)) {
        trace_vfio_display_edid_link_up();
    }
}

/*
 * Link down; then, if @plugged, a new EDID preferring @xres x @yres (the
 * generator's default for 0) and the link up a moment later.
 */
static void vfio_display_edid_update(VFIODisplay *dpy, bool plugged,
                                     uint32_t xres, uint32_t yres)
{
    struct vfio_region_gfx_edid *regs = &dpy->edid.regs;
    qemu_edid_info info = {
        .maxx = regs->max_xres,
        .maxy = regs->max_yres,
        .prefx = xres,
        .prefy = yres,
    };

    timer_del(dpy->edid.link_timer);
    regs->link_state = VFIO_DEVICE_GFX_LINK_STATE_DOWN;
    if (!edid_reg_write(dpy, link_state)) {
        return;
    }
    trace_vfio_display_edid_link_down();
    if (!plugged) {
        return;
    }
    if (info.maxx && info.prefx > info.maxx) {
        info.prefx = info.maxx;
    }
    if (info.maxy && info.prefy > info.maxy) {
        info.prefy = info.maxy;
    }
    /* a query asked before the new EDID is not shown */
    vfio_display_vendor_forget(dpy);
    qemu_edid_generate(dpy->edid.blob, regs->edid_max_size, &info);
    trace_vfio_display_edid_update(info.prefx, info.prefy);
    regs->edid_size = qemu_edid_size(dpy->edid.blob);
    if (!edid_reg_write(dpy, edid_size) ||
        !edid_reg_rw(dpy, regs->edid_offset, dpy->edid.blob, regs->edid_size,
                     true)) {
        return;
    }
    timer_mod(dpy->edid.link_timer,
              qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + EDID_LINK_DOWN_MS);
}

/* a UI asks for another size: a 0x0 request means "no monitor" */
void vfio_display_edid_ui_info(void *opaque, uint32_t head, QemuUIInfo *info)
{
    VFIODisplay *dpy = opaque;

    if (!dpy->edid.info) {
        return;
    }
    if (info->width && info->height) {
        vfio_display_edid_update(dpy, true, info->width, info->height);
    } else {
        vfio_display_edid_update(dpy, false, 0, 0);
    }
}

/*
 * The registers the vendor reports, checked.  Not against the region's
 * size: GVT-g (kvmgt.c) declares its EDID region EDID_SIZE (128) bytes
 * long and keeps the blob at PAGE_SIZE / 2 all the same.
 */
static bool vfio_display_edid_regs_ok(VFIODisplay *dpy)
{
    struct vfio_region_gfx_edid *regs = &dpy->edid.regs;

    return regs->edid_max_size >= EDID_MIN_SIZE &&
           regs->edid_max_size <= EDID_MAX_SIZE &&
           regs->edid_offset >= sizeof(*regs) &&
           regs->edid_offset <= EDID_MAX_OFFSET &&
           regs->max_xres <= VFIO_DISPLAY_MAX_DIM &&
           regs->max_yres <= VFIO_DISPLAY_MAX_DIM;
}

bool vfio_display_edid_init(VFIODisplay *dpy, Error **errp)
{
    VFIOPCIDevice *vdev = dpy->vdev;
    struct vfio_region_gfx_edid *regs = &dpy->edid.regs;

    if (vfio_get_dev_region_info(&vdev->vbasedev, VFIO_REGION_TYPE_GFX,
                                 VFIO_REGION_SUBTYPE_GFX_EDID,
                                 &dpy->edid.info)) {
        return true;            /* a display without EDID */
    }
    trace_vfio_display_edid_available();
    if (!edid_reg_read(dpy, edid_offset) ||
        !edid_reg_read(dpy, edid_max_size) ||
        !edid_reg_read(dpy, max_xres) || !edid_reg_read(dpy, max_yres)) {
        error_setg(errp, "vfio %s: cannot read the GFX EDID region",
                   vdev->vbasedev.name);
        g_clear_pointer(&dpy->edid.info, g_free);
        return false;
    }
    if (!vfio_display_edid_regs_ok(dpy)) {
        warn_report("vfio %s: display: EDID region ignored, its registers "
                    "make no sense (offset %u, max size %u, max %ux%u)",
                    vdev->vbasedev.name, regs->edid_offset,
                    regs->edid_max_size, regs->max_xres, regs->max_yres);
        g_clear_pointer(&dpy->edid.info, g_free);
        return true;
    }
    dpy->edid.blob = g_malloc0(regs->edid_max_size);
    /* xres/yres default to the largest mode the device can do */
    if (!vdev->display_xres) {
        vdev->display_xres = regs->max_xres;
    }
    if (!vdev->display_yres) {
        vdev->display_yres = regs->max_yres;
    }
    dpy->edid.link_timer = timer_new_ms(QEMU_CLOCK_REALTIME,
                                        vfio_display_edid_link_up, dpy);
    vfio_display_edid_update(dpy, true, vdev->display_xres,
                             vdev->display_yres);
    return true;
}

void vfio_display_edid_exit(VFIODisplay *dpy)
{
    if (dpy->edid.link_timer) {
        timer_free(dpy->edid.link_timer);
    }
    g_free(dpy->edid.blob);
    g_free(dpy->edid.info);
}
