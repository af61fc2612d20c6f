/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the GFX EDID region.  The host writes the monitor's
 * EDID (preferred mode from xres/yres or from a UI resize request) and
 * toggles the link so that the guest driver re-reads it.
 */
#include "qemu/osdep.h"

#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "hw/display/edid.h"
#include "pci.h"
#include "vfio-display.h"
#include "trace.h"

/* the smallest EDID (one block) and the largest blob we believe */
#define EDID_MIN_SIZE   128
#define EDID_MAX_SIZE   (64 * KiB)
#define EDID_MAX_OFFSET (1 * MiB)

static bool edid_reg_read(VFIODisplay *dpy, size_t off, void *val,
                          size_t len)
{
    off_t pos = dpy->edid.info->offset + off;

    return pread(dpy->vdev->vbasedev.fd, val, len, pos) == len;
}

#define edid_reg_get(dpy, field) \
    edid_reg_read(dpy, offsetof(struct vfio_region_gfx_edid, field), \
                  &(dpy)->edid.regs.field, sizeof((dpy)->edid.regs.field))

/* where @field of the EDID registers is in the device file */
#define edid_reg_pos(dpy, field) \
    ((dpy)->edid.info->offset + offsetof(struct vfio_region_gfx_edid, field))

/*
 * Link down; then, if @plugged, a new EDID preferring @xres x @yres (the
 * generator's default for 0) and the link up a moment later.  Written by
 * the vendor thread: a vendor slow to take them does not stall the UI.
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
    VFIODisplayEdid e = {
        .link_state = edid_reg_pos(dpy, link_state),
        .edid_size = edid_reg_pos(dpy, edid_size),
        .blob_off = dpy->edid.info->offset + regs->edid_offset,
    };

    if (plugged) {
        if (info.maxx && info.prefx > info.maxx) {
            info.prefx = info.maxx;
        }
        if (info.maxy && info.prefy > info.maxy) {
            info.prefy = info.maxy;
        }
        qemu_edid_generate(dpy->edid.blob, regs->edid_max_size, &info);
        trace_vfio_display_edid_update(info.prefx, info.prefy);
        e.blob = dpy->edid.blob;
        e.size = qemu_edid_size(dpy->edid.blob);
        /* a query asked before the new EDID is not shown */
        vfio_display_vendor_forget(dpy);
    }
    vfio_display_caller_edid(dpy->caller, &e);
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
    if (!edid_reg_get(dpy, edid_offset) ||
        !edid_reg_get(dpy, edid_max_size) ||
        !edid_reg_get(dpy, max_xres) || !edid_reg_get(dpy, max_yres)) {
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
    vfio_display_edid_update(dpy, true, vdev->display_xres,
                             vdev->display_yres);
    return true;
}

void vfio_display_edid_exit(VFIODisplay *dpy)
{
    g_free(dpy->edid.blob);
    g_free(dpy->edid.info);
}
